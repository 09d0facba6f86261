using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Server.Tests.Differential;
using AuthApi = Kvorum.Etcd.Api.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// One side of an auth differential run: channels to its members, and a token per user, got by logging in with the
/// password the step generator knows and used until the server says it is no longer valid (then one new login and one
/// retry, as etcd's own client does).
/// </summary>
internal sealed class AuthComparedServer(string name, IReadOnlyList<string> urls) : IDisposable
{
    private readonly GrpcChannel[] _channels = [.. urls.Select(u => GrpcChannel.ForAddress(u))];
    private readonly Dictionary<string, string> _tokens = [];

    public string Name { get; } = name;

    /// <summary>Forgets every token (the members restarted, or a change invalidated them).</summary>
    public void ForgetTokens() => _tokens.Clear();

    /// <summary>Makes <paramref name="step"/> on member <paramref name="member"/>; the answer is normalised for comparison.</summary>
    public async Task<DifferentialAnswer> CallAsync(int member, AuthStep step, Func<string, string> passwordOf)
    {
        var invoker = _channels[member % _channels.Length].CreateCallInvoker();
        for (var attempt = 0; ; attempt++)
        {
            Metadata? headers = null;
            if (step.User is { } user)
            {
                var (token, loginError) = await TokenAsync(invoker, user, passwordOf(user));
                if (loginError is not null)
                    return loginError;
                if (token is not null)
                    headers = new Metadata { { "token", token } };
            }
            var answer = await SendAsync(invoker, step.Request, headers);
            if (answer.Code == StatusCode.Unauthenticated && attempt == 0 && step.User is not null)
            {
                _tokens.Remove(step.User);
                continue;
            }
            return answer;
        }
    }

    /// <summary>
    /// A token for <paramref name="user"/>: the one held, or a new login's. No token (and no error) while authentication
    /// is disabled; a failed login is the step's answer.
    /// </summary>
    private async Task<(string? Token, DifferentialAnswer? Error)> TokenAsync(CallInvoker invoker, string user, string password)
    {
        if (_tokens.TryGetValue(user, out var held))
            return (held, null);
        var login = await SendAsync(invoker, new AuthenticateRequest { Name = user, Password = password }, null, normalize: false);
        if (login.Response is AuthenticateResponse r)
        {
            _tokens[user] = r.Token;
            return (r.Token, null);
        }
        return login.Error == "etcdserver: authentication is not enabled" ? (null, null) : (null, login with { Error = "login: " + login.Error });
    }

    private static async Task<DifferentialAnswer> SendAsync(CallInvoker invoker, IMessage request, Metadata? headers, bool normalize = true)
    {
        var kv = new KV.KVClient(invoker);
        var auth = new AuthApi.AuthClient(invoker);
        var options = new CallOptions(headers, DateTime.UtcNow.AddSeconds(10));
        try
        {
            IMessage response = request switch
            {
                RangeRequest q => await kv.RangeAsync(q, options),
                PutRequest q => await kv.PutAsync(q, options),
                DeleteRangeRequest q => await kv.DeleteRangeAsync(q, options),
                TxnRequest q => await kv.TxnAsync(q, options),
                AuthenticateRequest q => await auth.AuthenticateAsync(q, options),
                AuthEnableRequest q => await auth.AuthEnableAsync(q, options),
                AuthDisableRequest q => await auth.AuthDisableAsync(q, options),
                AuthUserAddRequest q => await auth.UserAddAsync(q, options),
                AuthUserDeleteRequest q => await auth.UserDeleteAsync(q, options),
                AuthUserChangePasswordRequest q => await auth.UserChangePasswordAsync(q, options),
                AuthUserGrantRoleRequest q => await auth.UserGrantRoleAsync(q, options),
                AuthUserRevokeRoleRequest q => await auth.UserRevokeRoleAsync(q, options),
                AuthUserGetRequest q => await auth.UserGetAsync(q, options),
                AuthUserListRequest q => await auth.UserListAsync(q, options),
                AuthRoleAddRequest q => await auth.RoleAddAsync(q, options),
                AuthRoleDeleteRequest q => await auth.RoleDeleteAsync(q, options),
                AuthRoleGrantPermissionRequest q => await auth.RoleGrantPermissionAsync(q, options),
                AuthRoleRevokePermissionRequest q => await auth.RoleRevokePermissionAsync(q, options),
                AuthRoleGetRequest q => await auth.RoleGetAsync(q, options),
                AuthRoleListRequest q => await auth.RoleListAsync(q, options),
                AuthStatusRequest q => await auth.AuthStatusAsync(q, options),
                _ => throw new ArgumentException($"not a KV or Auth request: {request.Descriptor.Name}", nameof(request)),
            };
            return new DifferentialAnswer(normalize ? Normalize(response) : response, StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return new DifferentialAnswer(null, e.StatusCode, e.Status.Detail);
        }
    }

    /// <summary>Clears what rightly differs (the header's ids and term) and a login's token, which is random.</summary>
    private static IMessage Normalize(IMessage response)
    {
        var copy = response.Descriptor.Parser.ParseFrom(response.ToByteString());
        if (copy.Descriptor.FindFieldByName("header")?.Accessor.GetValue(copy) is ResponseHeader header)
        {
            header.ClusterId = 0;
            header.MemberId = 0;
            header.RaftTerm = 0;
        }
        if (copy is AuthenticateResponse login)
            login.Token = "";
        return copy;
    }

    public void Dispose()
    {
        foreach (var c in _channels)
            c.Dispose();
    }
}
