using System.Text;
using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

internal static class Fixtures
{
    public static DiskRaftStorage Open(string dir, long segmentSize = StorageOptions.DefaultSegmentSize, bool preallocate = true) =>
        DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir, SegmentSize = segmentSize, PreallocateSegments = preallocate });

    public static byte[] Payload(ulong index, int length = 40) =>
        Encoding.ASCII.GetBytes($"entry-{index:D8}-".PadRight(length, (char)('a' + (int)(index % 26))));

    public static Entry[] Entries(ulong from, int count, ulong term, int length = 40) =>
        [.. Enumerable.Range(0, count).Select(i => new Entry(from + (ulong)i, term, Payload(from + (ulong)i, length)))];

    public static List<Entry> All(IRaftStorage s)
    {
        var list = new List<Entry>();
        if (s.LastIndex >= s.FirstIndex)
            s.GetEntries(s.FirstIndex, s.LastIndex + 1, long.MaxValue, list);
        return list;
    }

    public static void AssertSameLog(IRaftLogStore expected, IRaftLogStore actual)
    {
        Assert.Equal(expected.HardState, actual.HardState);
        Assert.Equal(expected.Snapshot, actual.Snapshot);
        Assert.Equal(expected.FirstIndex, actual.FirstIndex);
        Assert.Equal(expected.LastIndex, actual.LastIndex);
        Assert.Equal(expected.SnapshotData.ToArray(), actual.SnapshotData.ToArray());
        var e = All(expected);
        var a = All(actual);
        Assert.Equal(e.Count, a.Count);
        for (var i = 0; i < e.Count; i++)
        {
            Assert.Equal(e[i].Index, a[i].Index);
            Assert.Equal(e[i].Term, a[i].Term);
            Assert.Equal(e[i].Type, a[i].Type);
            Assert.Equal(e[i].Data.ToArray(), a[i].Data.ToArray());
        }
        for (var i = expected.FirstIndex - Math.Min(2, expected.FirstIndex); i <= expected.LastIndex + 2; i++)
        {
            var ok = expected.TryGetTerm(i, out var et);
            Assert.Equal(ok, actual.TryGetTerm(i, out var at));
            Assert.Equal(et, at);
        }
    }
}
