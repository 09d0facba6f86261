using Google.Protobuf;
using Grpc.Core;
using AuthClient = Kvorum.Etcd.Api.Auth.AuthClient;

namespace Kvorum.Cli.Client;

/// <summary>One call of the Auth service on the first endpoint that answers, for the user, role and auth commands.</summary>
internal static class AuthCalls
{
    /// <summary>Runs <paramref name="call"/> with an Auth client; a server error ends the command with etcdctl's line.</summary>
    public static Task<T> CallAsync<T>(EtcdConnection connection, Func<AuthClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellation)
        where T : IMessage
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(call);
        return connection.CallAsync((channel, options) => call(new AuthClient(channel), options).ResponseAsync, cancellation);
    }

    /// <summary>Prints names one a line, as etcdctl's <c>user list</c> and <c>role list</c> (nothing for none), or the response as JSON.</summary>
    public static void PrintNames(Output.OutputWriter output, IReadOnlyCollection<string> names, IMessage response)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count > 0 || output.Format == Output.OutputFormat.Json)
            output.Line(string.Join('\n', names), response);
    }
}
