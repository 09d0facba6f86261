namespace Kvorum.Server.Node;

/// <summary>
/// Arrays for the payloads of log entries, on the pinned object heap. A payload lives as long as its entry stays in
/// the in-memory log and, for a put, as long as the version stays in the MVCC store, whose value is a view into the
/// same array (<see cref="PutValueSharing"/>). On the ordinary heap every such array would be copied twice, from
/// generation 0 to 1 and from 1 to 2, by collections that pause the whole member; the pinned heap is collected only
/// with generation 2, in the background, and never moves what it holds.
/// </summary>
internal static class EntryPayloads
{
    /// <summary>An array of <paramref name="length"/> bytes for a payload, not cleared.</summary>
    public static byte[] Allocate(int length) =>
        length == 0 ? [] : GC.AllocateUninitializedArray<byte>(length, pinned: true);

    /// <summary>A payload array holding a copy of <paramref name="bytes"/>.</summary>
    public static byte[] Copy(ReadOnlySpan<byte> bytes)
    {
        var payload = Allocate(bytes.Length);
        bytes.CopyTo(payload);
        return payload;
    }
}
