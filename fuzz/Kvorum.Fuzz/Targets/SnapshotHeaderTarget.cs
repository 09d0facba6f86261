using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// The header of a snapshot file (<see cref="SnapshotFormat"/>): any bytes decode or throw
/// <see cref="FormatException"/>; a decoded header encodes to bytes that decode to the same header (not always to
/// the bytes it was read from: the configuration's ids are kept sorted).
/// </summary>
internal static class SnapshotHeaderTarget
{
    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        SnapshotRef snapshot;
        try
        {
            (snapshot, _) = SnapshotFormat.DecodeHeader(input);
        }
        catch (FormatException)
        {
            return;
        }
        var once = SnapshotFormat.EncodeHeader(snapshot);
        var (again, againLength) = SnapshotFormat.DecodeHeader(once);
        if (againLength != once.Length)
            throw new DecoderPropertyException($"snapshot header: re-encoded as {once.Length} bytes, decoded as {againLength}");
        DecoderPropertyException.ThrowIfDifferent(once, SnapshotFormat.EncodeHeader(again), "snapshot header");
    }

    /// <summary>Valid headers, followed by some data as in a file.</summary>
    public static IReadOnlyList<byte[]> Seeds() =>
    [
        [.. SnapshotFormat.EncodeHeader(new SnapshotRef(new SnapshotMetadata(10, 2, new ConfState([1, 2, 3], [4])), 7)), .. "data"u8],
        SnapshotFormat.EncodeHeader(new SnapshotRef(new SnapshotMetadata(1, 1, ConfState.OfVoters(1)), 1)),
    ];
}
