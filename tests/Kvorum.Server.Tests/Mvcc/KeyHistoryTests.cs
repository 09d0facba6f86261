using Google.Protobuf;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>A key's history (its own growable array) against a plain list, through appends, compactions and undos.</summary>
public class KeyHistoryTests
{
    private static KeyVersion Put(long main, int n) =>
        new(new Revision(main, 0), createRevision: 1, version: n, ByteString.CopyFromUtf8($"v{n}"), lease: 0, isTombstone: false);

    [Fact]
    public void Agrees_with_a_list_through_appends_compactions_and_truncations()
    {
        var random = new Random(5);
        var history = new KeyHistory(ByteString.CopyFromUtf8("k"));
        var expected = new List<KeyVersion>();
        long main = 1;
        for (var step = 0; step < 5000; step++)
        {
            switch (random.Next(10))
            {
                case < 6:
                    main += 1 + random.Next(3);
                    var v = random.Next(8) == 0 ? KeyVersion.Tombstone(new Revision(main, 0)) : Put(main, step);
                    history.Append(v);
                    expected.Add(v);
                    break;
                case < 8 when expected.Count > 0:
                    // Compact at a revision inside the history: keep the newest at or before it unless it is a tombstone.
                    var at = expected[random.Next(expected.Count)].Revision.Main;
                    history.Compact(at);
                    var last = expected.FindLastIndex(x => x.Revision.Main <= at);
                    expected.RemoveRange(0, expected[last].IsTombstone ? last + 1 : last);
                    break;
                case < 9 when expected.Count > 0:
                    // Undo everything from a revision on.
                    var from = expected[random.Next(expected.Count)].Revision.Main;
                    history.TruncateFrom(from);
                    expected.RemoveAll(x => x.Revision.Main >= from);
                    main = expected.Count > 0 ? expected[^1].Revision.Main : main;
                    break;
            }

            Assert.Equal(expected.Count, history.Versions.Length);
            Assert.Equal(expected.Count == 0, history.IsEmpty);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Revision, history.Versions[i].Revision);
                Assert.Equal(expected[i].Value, history.Versions[i].Value);
            }
            var probe = main - random.Next(10);
            KeyVersion? want = expected.LastOrDefault(x => x.Revision.Main <= probe) is var found && expected.Any(x => x.Revision.Main <= probe) && !found.IsTombstone
                ? found
                : null;
            Assert.Equal(want?.Revision, history.At(probe)?.Revision);
            Assert.Equal(want is not null, history.ExistsAt(probe));
        }
    }
}
