using Google.Protobuf;

namespace Kvorum.Cli.Client;

/// <summary>etcd's range-end conventions for <c>--prefix</c> and <c>--from-key</c>.</summary>
internal static class KeyRanges
{
    /// <summary>The range end meaning "every key from here on": a single zero byte.</summary>
    public static ByteString FromKey { get; } = ByteString.CopyFrom(0);

    /// <summary>
    /// The end of the range of keys starting with <paramref name="prefix"/>: the prefix with its last byte below
    /// 0xff incremented and the rest dropped; <see cref="FromKey"/> for an empty or all-0xff prefix.
    /// </summary>
    /// <returns>The exclusive range end.</returns>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }

        return FromKey;
    }
}
