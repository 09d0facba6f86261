using Grpc.Core;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// An error that etcd reports to its clients: the exact etcd message together with the gRPC status
/// code etcd sends it with, so the server layer can pass it on unchanged.
/// </summary>
public sealed class EtcdException : Exception
{
    /// <summary>Creates an error with etcd's status code and message.</summary>
    /// <param name="statusCode">The gRPC status code etcd uses for this error.</param>
    /// <param name="message">etcd's message, e.g. <c>etcdserver: key is not provided</c>.</param>
    public EtcdException(StatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> error; prefer the constructor with a code.</summary>
    public EtcdException()
        : this(StatusCode.Unknown, "etcdserver: unknown error")
    {
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> error with a message.</summary>
    /// <param name="message">The message.</param>
    public EtcdException(string message)
        : this(StatusCode.Unknown, message)
    {
    }

    /// <summary>Creates an <see cref="StatusCode.Unknown"/> error with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public EtcdException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCode.Unknown;
    }

    /// <summary>The gRPC status code etcd sends with this error.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The same error as a gRPC <see cref="RpcException"/>, ready to throw from a service method.</summary>
    /// <returns>An exception carrying this error's status code and message.</returns>
    public RpcException ToRpcException() => new(new Status(StatusCode, Message));
}
