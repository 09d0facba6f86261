using System.Text;
using CsCheck;
using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

/// <summary>
/// Model-based test: random sequences of operations run against <see cref="DiskRaftStorage"/> and against
/// <see cref="MemoryRaftStorage"/> as the model; after every step (including a close and reopen) both must
/// hold the same log, and an operation must fail on one exactly when it fails on the other.
/// </summary>
public class ModelPropertyTests
{
    private abstract record Op;

    /// <summary>Save entries [Last + 1 + Offset, +Count) of one term, with an optional hard state.</summary>
    private sealed record SaveOp(int Offset, int Count, int Term, int DataLength, bool WithHardState, int Vote) : Op;

    /// <summary>CreateSnapshot at LastIndex - Back (Back = -1 is past the end).</summary>
    private sealed record CreateSnapshotOp(int Back, int Voters) : Op;

    /// <summary>ApplySnapshot at Snapshot.Index + Ahead (Ahead = -1 is older than the current one).</summary>
    private sealed record ApplySnapshotOp(int Ahead, int Term) : Op;

    private sealed record ReopenOp : Op;

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (10, Gen.Select(Gen.Int[-4, 1], Gen.Int[0, 5], Gen.Int[1, 4], Gen.Int[0, 60], Gen.Bool, Gen.Int[0, 3],
            (o, c, t, l, h, v) => (Op)new SaveOp(o, c, t, l, h, v))),
        (2, Gen.Select(Gen.Int[-1, 6], Gen.Int[1, 3], (b, v) => (Op)new CreateSnapshotOp(b, v))),
        (1, Gen.Select(Gen.Int[-1, 12], Gen.Int[1, 5], (a, t) => (Op)new ApplySnapshotOp(a, t))),
        (2, Gen.Const((Op)new ReopenOp())));

    [Fact]
    public void Disk_storage_behaves_like_the_memory_model()
    {
        GenOp.List[1, 40].Sample(
            ops => Run(ops),
            iter: 60,
            threads: 1,
            print: ops => string.Join("\n", ops));
    }

    private static byte[] Data(ulong index, int term, int length) =>
        Encoding.ASCII.GetBytes($"{index}/{term}:".PadRight(length, (char)('a' + (int)(index % 26))));

    private static void Run(List<Op> ops)
    {
        using var dir = new TempDir();
        var model = new MemoryRaftStorage();
        var disk = Fixtures.Open(dir.Path, segmentSize: 1024);
        try
        {
            foreach (var op in ops)
            {
                if (op is ReopenOp)
                {
                    disk.Dispose();
                    disk = Fixtures.Open(dir.Path, segmentSize: 1024);
                    Assert.Equal(0, disk.Recovery.TruncatedBytes);
                }
                else
                {
                    var expected = Catch(() => Apply(model, op));
                    var actual = Catch(() => Apply(disk, op));
                    Assert.Equal(expected, actual);
                }
                Fixtures.AssertSameLog(model, disk);
            }
            disk.Dispose();
            disk = Fixtures.Open(dir.Path, segmentSize: 1024);
            Fixtures.AssertSameLog(model, disk);
        }
        finally
        {
            disk.Dispose();
        }
    }

    private static Type? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return e.GetType();
        }
    }

    private static void Apply(IRaftLogStore s, Op op)
    {
        switch (op)
        {
            case SaveOp save:
                {
                    var first = (long)s.LastIndex + 1 + save.Offset;
                    var entries = Enumerable.Range(0, first < 1 ? 0 : save.Count)
                        .Select(i => new Entry((ulong)first + (ulong)i, (ulong)save.Term,
                            i % 4 == 3 ? EntryType.ConfChange : EntryType.Normal, Data((ulong)first + (ulong)i, save.Term, save.DataLength)))
                        .ToArray();
                    HardState? hs = save.WithHardState ? new HardState((ulong)save.Term, (ulong)save.Vote, s.LastIndex / 2) : null;
                    s.Save(hs, entries);
                    break;
                }
            case CreateSnapshotOp create:
                {
                    var index = create.Back < 0 ? s.LastIndex + 1 : s.LastIndex - Math.Min(s.LastIndex, (ulong)create.Back);
                    var conf = ConfState.OfVoters([.. Enumerable.Range(1, create.Voters).Select(v => (ulong)v)]);
                    s.CreateSnapshot(index, conf, Data(index, 0, 10 + create.Voters));
                    break;
                }
            case ApplySnapshotOp apply:
                {
                    var index = apply.Ahead < 0 ? s.Snapshot.Index - Math.Min(s.Snapshot.Index, 1) : s.Snapshot.Index + (ulong)apply.Ahead;
                    if (apply.Ahead < 0 && s.Snapshot.Index == 0)
                        index = 0;
                    s.ApplySnapshot(new SnapshotMetadata(index, (ulong)apply.Term, ConfState.OfVoters(2, 3)), Data(index, apply.Term, 33));
                    break;
                }
        }
    }
}
