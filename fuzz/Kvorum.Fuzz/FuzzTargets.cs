using Kvorum.Fuzz.Targets;

namespace Kvorum.Fuzz;

/// <summary>One decoder to fuzz: its name on the command line, its property and its seed inputs.</summary>
/// <param name="Name">The name <c>fuzz/run.sh</c> takes; also the folder of its corpus, <c>fuzz/corpus/NAME</c>.</param>
/// <param name="Run">Checks one input; throws only when the property breaks.</param>
/// <param name="Seeds">Valid encodings to start from.</param>
internal sealed record FuzzTarget(string Name, Action<byte[]> Run, Func<IReadOnlyList<byte[]>> Seeds);

/// <summary>Every target, by name.</summary>
internal static class FuzzTargets
{
    /// <summary>The targets, in the order <c>fuzz/run.sh all</c> runs them.</summary>
    public static readonly IReadOnlyList<FuzzTarget> All =
    [
        new("peer-message", PeerMessageTarget.Run, PeerMessageTarget.Seeds),
        new("wal-record", WalRecordTarget.Run, WalRecordTarget.Seeds),
        new("wal-segment", WalSegmentTarget.Run, WalSegmentTarget.Seeds),
        new("snapshot-header", SnapshotHeaderTarget.Run, SnapshotHeaderTarget.Seeds),
        new("node-snapshot", NodeSnapshotTarget.Run, NodeSnapshotTarget.Seeds),
        new("backup-file", BackupFileTarget.Run, BackupFileTarget.Seeds),
        new("member-table", MemberTableTarget.Run, MemberTableTarget.Seeds),
        new("etcd-request", EtcdRequestTarget.Run, EtcdRequestTarget.Seeds),
    ];

    /// <summary>The target called <paramref name="name"/>, or null.</summary>
    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
