using Google.Protobuf;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>The chunked sorted index against a sorted set, across chunk splits and removals.</summary>
public class KeyIndexTests
{
    private static ByteString Key(int n) => ByteString.CopyFromUtf8($"k{n:D5}");

    [Fact]
    public void Stays_sorted_across_splits_and_removals()
    {
        var index = new KeyIndex();
        var expected = new SortedSet<ByteString>(ByteKeyComparer.Instance);
        var random = new Random(7);

        for (int i = 0; i < 5000; i++)
        {
            ByteString key = Key(random.Next(4000));
            if (random.Next(4) == 0)
            {
                Assert.Equal(expected.Remove(key), index.Remove(key));
            }
            else
            {
                index.GetOrAdd(key);
                expected.Add(key);
            }
        }

        Assert.Equal(expected.Count, index.Count);
        Assert.Equal(expected, index.All().Select(h => h.Key));
        foreach (ByteString key in expected)
            Assert.Same(index.Find(key), index.GetOrAdd(key));
        // Point lookups (a hash table) and the sorted chunks hold the same histories, found by equal keys.
        var inOrder = index.All().ToDictionary(h => h.Key.ToStringUtf8());
        for (int n = 0; n < 4000; n++)
        {
            ByteString fresh = Key(n);
            KeyHistory? found = index.Find(fresh);
            if (inOrder.TryGetValue(fresh.ToStringUtf8(), out KeyHistory? history))
                Assert.Same(history, found);
            else
                Assert.Null(found);
        }
        Assert.Equal(index.Count, inOrder.Count);
    }

    [Fact]
    public void Scan_visits_exactly_the_keys_in_range()
    {
        var index = new KeyIndex();
        for (int i = 0; i < 3000; i += 3)
            index.GetOrAdd(Key(i));

        KeyRange range = KeyRange.FromRequest(Key(1000), Key(2000));
        string[] scanned = [.. index.Scan(range).Select(h => h.Key.ToStringUtf8())];

        string[] expected = [.. Enumerable.Range(1000, 1000).Where(i => i % 3 == 0).Select(i => $"k{i:D5}")];
        Assert.Equal(expected, scanned);
        Assert.Equal(1000, index.Scan(KeyRange.FromRequest(ByteString.CopyFromUtf8("k"), ByteString.CopyFrom(0))).Count());
        Assert.Empty(index.Scan(KeyRange.FromRequest(ByteString.CopyFromUtf8("z"), ByteString.CopyFrom(0))));
        Assert.Single(index.Scan(KeyRange.ForKey(Key(999))));
        Assert.Empty(index.Scan(KeyRange.ForKey(Key(1000))));
    }
}
