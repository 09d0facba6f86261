using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// A whole WAL segment, recovered as at a start (<see cref="WalRecovery"/>, <see cref="SegmentReader"/>,
/// <see cref="SegmentScan"/>): any file recovers, or is refused with <see cref="WalCorruptException"/>.
/// </summary>
internal static class WalSegmentTarget
{
    /// <summary>
    /// The name <paramref name="input"/> is written under: the one its header record names, so that damage past the
    /// header is reached; the first segment of a new log when it names none.
    /// </summary>
    public static string FileName(byte[] input)
    {
        try
        {
            if (RecordFormat.TryParse(input, out var header, out _) == ParseStatus.Ok && header.Type == RecordType.SegmentHeader)
            {
                var (sequence, _, _) = PayloadCodec.DecodeSegmentHeader(input.AsSpan(header.PayloadOffset, header.PayloadLength));
                return SegmentName.Format(sequence, header.Index + 1);
            }
        }
        catch (FormatException)
        {
            // Recovery refuses it below.
        }
        return SegmentName.Format(1, 1);
    }

    private static readonly string Directory = Path.Combine(Path.GetTempPath(), $"kvorum-fuzz-wal-{Environment.ProcessId}");

    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
        System.IO.Directory.CreateDirectory(Directory);
        File.WriteAllBytes(Path.Combine(Directory, FileName(input)), input);
        try
        {
            WalRecovery.Recover(OsFileSystem.Instance, Directory, static _ => { });
        }
        catch (WalCorruptException)
        {
            // The documented refusal.
        }
    }

    /// <summary>First segments of logs that a member wrote: entries, conf changes, hard states, a snapshot.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var seeds = new List<byte[]>();
        for (var variant = 0; variant < 3; variant++)
        {
            var dir = Path.Combine(Path.GetTempPath(), $"kvorum-fuzz-seed-{Environment.ProcessId}-{variant}");
            if (System.IO.Directory.Exists(dir))
                System.IO.Directory.Delete(dir, recursive: true);
            using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir, PreallocateSegments = false }))
            {
                if (variant == 2)
                    storage.ApplySnapshot(new SnapshotMetadata(5, 1, ConfState.OfVoters(1, 2, 3)), "state"u8.ToArray());
                var first = variant == 2 ? 6UL : 1UL;
                for (var i = first; i < first + 6; i++)
                {
                    var entry = variant == 1 && i == first
                        ? new Entry(i, 1, EntryType.ConfChange, new ConfChange(ConfChangeType.AddVoter, 2, new byte[] { 8, 1 }).Encode())
                        : new Entry(i, 1, "put key value"u8.ToArray());
                    storage.Save(new HardState(1, 1, i - 1), [entry]);
                }
            }
            var wal = Path.Combine(dir, "wal");
            seeds.Add(File.ReadAllBytes(System.IO.Directory.GetFiles(wal, "*" + SegmentName.Extension).Order().First()));
            System.IO.Directory.Delete(dir, recursive: true);
        }
        return seeds;
    }
}
