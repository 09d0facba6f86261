using Grpc.Core;

namespace Kvorum.Etcd.Errors;

/// <summary>
/// Where errors meet the wire: the one place that turns an <see cref="EtcdError"/>, or an <see cref="EtcdException"/>
/// that ends a handler of the etcd API, into the gRPC status its client receives. Any other exception is left to gRPC,
/// which answers it with <see cref="StatusCode.Unknown"/>.
/// </summary>
internal static class EtcdCall
{
    /// <summary>Runs a handler, answering an <see cref="EtcdException"/> it throws with that error's status.</summary>
    /// <typeparam name="T">The handler's response.</typeparam>
    /// <returns>The handler's response.</returns>
    /// <exception cref="RpcException">The handler failed with an <see cref="EtcdException"/>.</exception>
    public static async Task<T> Run<T>(Func<Task<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            throw ToRpcException(e.Error);
        }
    }

    /// <summary>The exception a handler throws to answer its client with <paramref name="error"/>.</summary>
    /// <param name="error">One of <see cref="EtcdErrors"/>.</param>
    /// <returns>An exception carrying the error's status code and text.</returns>
    public static RpcException ToRpcException(EtcdError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new RpcException(new Status(error.Code, error.Message));
    }

    /// <summary>
    /// The status a Lock or Election handler ends with when <paramref name="error"/> stops it: etcd's v3lock and
    /// v3election servers return their client's errors as plain errors, which gRPC sends as Unknown with the text.
    /// </summary>
    /// <param name="error">An <see cref="EtcdException"/>, or an <see cref="RpcException"/> from a call the recipe made.</param>
    /// <returns>The exception to throw, or null when <paramref name="error"/> is neither.</returns>
    public static RpcException? AsUnknown(Exception error) => error switch
    {
        EtcdException e => new RpcException(new Status(StatusCode.Unknown, e.Error.Message)),
        RpcException { StatusCode: StatusCode.Cancelled } e => e,
        RpcException e => new RpcException(new Status(StatusCode.Unknown, e.Status.Detail)),
        _ => null,
    };

    /// <summary>Runs a Lock or Election handler, answering its failures as <see cref="AsUnknown"/> says.</summary>
    /// <typeparam name="T">The handler's response.</typeparam>
    /// <returns>The handler's response.</returns>
    /// <exception cref="RpcException">The handler failed.</exception>
    public static async Task<T> RunAsUnknown<T>(Func<Task<T>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (Exception e) when (AsUnknown(e) is { } status && status != e)
        {
            throw status;
        }
    }
}
