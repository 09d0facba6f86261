using Grpc.Core;

namespace Kvorum.Etcd.Errors;

/// <summary>
/// One error a client of the etcd API can see: the gRPC status code it is sent with and its text, as etcd words it (or
/// as Kvorum does where etcd has no such error). Every value is declared in <see cref="EtcdErrors"/>, which is why the
/// constructor is not public; <see cref="EtcdCall"/> turns one into the status on the wire.
/// </summary>
internal sealed record EtcdError
{
    internal EtcdError(StatusCode code, string message)
    {
        Code = code;
        Message = message;
    }

    /// <summary>The gRPC status code the error is sent with.</summary>
    public StatusCode Code { get; }

    /// <summary>The status detail the error is sent with, e.g. <c>etcdserver: key is not provided</c>.</summary>
    public string Message { get; }

    /// <summary>True when a call failed with this error: its status has this code and this text.</summary>
    /// <param name="error">The failure a client received.</param>
    /// <returns>Whether the server answered with this error.</returns>
    public bool Matches(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.StatusCode == Code && string.Equals(error.Status.Detail, Message, StringComparison.Ordinal);
    }
}
