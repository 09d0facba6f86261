namespace Kvorum.Etcd.Errors;

/// <summary>
/// An <see cref="EtcdError"/> thrown: what the server's layers throw (the MVCC store, the member, the services) for a
/// client to be answered with it. <see cref="EtcdCall"/> turns it into the gRPC status sent.
/// </summary>
internal sealed class EtcdException : Exception
{
    /// <summary>Creates the exception that answers a client with <paramref name="error"/>.</summary>
    /// <param name="error">One of <see cref="EtcdErrors"/>.</param>
    public EtcdException(EtcdError error)
        : base(Text(error))
    {
        Error = error;
    }

    /// <summary>The error the client is answered with.</summary>
    public EtcdError Error { get; }

    private static string Text(EtcdError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Message;
    }
}
