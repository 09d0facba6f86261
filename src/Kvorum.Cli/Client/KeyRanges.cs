using Google.Protobuf;
using Kvorum.Etcd.Keys;

namespace Kvorum.Cli.Client;

/// <summary>etcd's range-end conventions for <c>--prefix</c> and <c>--from-key</c>.</summary>
internal static class KeyRanges
{
    /// <summary>The range end meaning "every key from here on": a single zero byte.</summary>
    public static ByteString FromKey { get; } = ByteString.CopyFrom(0);

    /// <summary>The end of the range of keys starting with <paramref name="prefix"/> (the server's own rule, one home).</summary>
    public static ByteString PrefixEnd(ByteString prefix) => KeyRange.PrefixEnd(prefix);
}
