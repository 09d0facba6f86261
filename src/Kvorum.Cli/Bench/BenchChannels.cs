using Grpc.Net.Client;
using Kvorum.Cli.Client;

namespace Kvorum.Cli.Bench;

/// <summary>
/// The gRPC connections of a benchmark run: connection <c>i</c> to endpoint <c>i % count</c>, each with the command's
/// TLS (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>) and user (<c>--user</c>), as every client command's
/// <see cref="EtcdConnection"/>. The user logs in once for the whole run, and every connection sends the same token.
/// </summary>
internal sealed class BenchChannels : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly AuthTokenSource? _tokens;

    /// <summary>Opens <paramref name="count"/> connections; each connects on its first call.</summary>
    /// <param name="endpoints">The endpoints.</param>
    /// <param name="count">How many connections.</param>
    /// <param name="dialTimeout">How long to wait for a TCP connection.</param>
    /// <param name="requestTimeout">The deadline of the login.</param>
    /// <param name="tls">TLS of https endpoints; null for the system's defaults.</param>
    /// <param name="credentials">The user; null for none.</param>
    public BenchChannels(IReadOnlyList<Uri> endpoints, int count, TimeSpan dialTimeout, TimeSpan requestTimeout, ClientTls? tls, ClientCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (credentials is not null)
            _tokens = new AuthTokenSource(credentials, dialTimeout, requestTimeout, tls);
        _channels = [.. Enumerable.Range(0, count)
            .Select(i => EtcdConnection.OpenChannel(endpoints[i % endpoints.Count], dialTimeout, tls, _tokens?.CallCredentials))];
    }

    /// <summary>How many connections there are.</summary>
    public int Count => _channels.Length;

    /// <summary>Connection <paramref name="index"/>.</summary>
    public GrpcChannel this[int index] => _channels[index];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var channel in _channels)
            channel.Dispose();
        _tokens?.Dispose();
    }
}
