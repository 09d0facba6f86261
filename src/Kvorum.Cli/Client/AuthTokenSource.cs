using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// The token of a command's user: got by logging in (Authenticate) on first use, at the endpoint the first call goes
/// to, and then sent as the <c>token</c> metadata of every call, as etcdctl does. A login that fails ends the call
/// with the server's error ("authentication failed, invalid user ID or password"). The login goes over the command's
/// TLS (<paramref name="tls"/>), as its other calls do.
/// </summary>
internal sealed class AuthTokenSource(ClientCredentials credentials, TimeSpan dialTimeout, TimeSpan commandTimeout, ClientTls? tls = null) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;

    /// <summary>Credentials that add the token to each call of a channel.</summary>
    public CallCredentials CallCredentials => CallCredentials.FromInterceptor(async (context, metadata) =>
        metadata.Add("token", await TokenAsync(new Uri(context.ServiceUrl), context.CancellationToken).ConfigureAwait(false)));

    private async Task<string> TokenAsync(Uri serviceUrl, CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_token is not null)
                return _token;
            // A channel without these credentials: the login itself carries no token.
            var endpoint = new Uri(serviceUrl.GetLeftPart(UriPartial.Authority));
            using var channel = EtcdConnection.OpenChannel(endpoint, dialTimeout, tls);
            var response = await new Kvorum.Etcd.Api.Auth.AuthClient(channel).AuthenticateAsync(
                new AuthenticateRequest { Name = credentials.User, Password = credentials.Password },
                deadline: DateTime.UtcNow + commandTimeout, cancellationToken: cancellation).ConfigureAwait(false);
            return _token = response.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _gate.Dispose();
}
