using Kvorum.Raft;

namespace Kvorum.Server.Tests.Transport;

/// <summary>Field-by-field equality of messages, comparing payload bytes rather than memory references.</summary>
internal static class MessageAssert
{
    public static void Same(in Message expected, in Message actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.From, actual.From);
        Assert.Equal(expected.To, actual.To);
        Assert.Equal(expected.Term, actual.Term);
        Assert.Equal(expected.LogTerm, actual.LogTerm);
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Commit, actual.Commit);
        Assert.Equal(expected.Reject, actual.Reject);
        Assert.Equal(expected.RejectHint, actual.RejectHint);
        Assert.Equal(expected.Transfer, actual.Transfer);
        Assert.Equal(expected.Context.ToArray(), actual.Context.ToArray());
        Assert.Equal(expected.Snapshot, actual.Snapshot);
        Assert.Equal(expected.Entries.Length, actual.Entries.Length);
        for (var i = 0; i < expected.Entries.Length; i++)
        {
            var want = expected.Entries.Span[i];
            var got = actual.Entries.Span[i];
            Assert.Equal((want.Index, want.Term, want.Type), (got.Index, got.Term, got.Type));
            Assert.Equal(want.Data.ToArray(), got.Data.ToArray());
        }
    }
}
