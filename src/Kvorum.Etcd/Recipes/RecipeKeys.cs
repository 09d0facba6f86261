using System.Globalization;
using Google.Protobuf;

namespace Kvorum.Etcd.Recipes;

/// <summary>The keys of a lock or an election: <c>NAME/</c> is the queue's prefix, <c>NAME/&lt;lease hex&gt;</c> one member of it.</summary>
internal static class RecipeKeys
{
    /// <summary>The queue's prefix: the name and a slash.</summary>
    /// <param name="name">The lock's or election's name (may be empty: the prefix is then <c>/</c>).</param>
    /// <returns>The prefix.</returns>
    public static ByteString Prefix(ByteString name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByteString.CopyFrom([.. name.Span, (byte)'/']);
    }

    /// <summary>
    /// The key of a lease's place in the queue: the prefix and the lease in lower-case hex without padding, as Go's
    /// <c>%x</c> prints it (a negative lease prints with a minus sign: <c>-5</c>).
    /// </summary>
    /// <param name="prefix">The queue's prefix.</param>
    /// <param name="leaseId">The lease.</param>
    /// <returns>The key.</returns>
    public static ByteString Key(ByteString prefix, long leaseId)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var hex = leaseId < 0
            ? "-" + ((ulong)-(leaseId + 1) + 1).ToString("x", CultureInfo.InvariantCulture)
            : leaseId.ToString("x", CultureInfo.InvariantCulture);
        return ByteString.CopyFrom([.. prefix.Span, .. System.Text.Encoding.ASCII.GetBytes(hex)]);
    }
}
