using Google.Protobuf;
using Kvorum.Etcd.Keys;
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

        for (var i = 0; i < 5000; i++)
        {
            var key = Key(random.Next(4000));
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
        foreach (var key in expected)
            Assert.Same(index.Find(key), index.GetOrAdd(key));
        // Point lookups (a hash table) and the sorted chunks hold the same histories, found by equal keys.
        var inOrder = index.All().ToDictionary(h => h.Key.ToStringUtf8());
        for (var n = 0; n < 4000; n++)
        {
            var fresh = Key(n);
            var found = index.Find(fresh);
            if (inOrder.TryGetValue(fresh.ToStringUtf8(), out var history))
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
        for (var i = 0; i < 3000; i += 3)
            index.GetOrAdd(Key(i));

        var range = KeyRange.FromRequest(Key(1000), Key(2000));
        string[] scanned = [.. index.Scan(range).Select(h => h.Key.ToStringUtf8())];

        string[] expected = [.. Enumerable.Range(1000, 1000).Where(i => i % 3 == 0).Select(i => $"k{i:D5}")];
        Assert.Equal(expected, scanned);
        Assert.Equal(1000, index.Scan(KeyRange.FromRequest(ByteString.CopyFromUtf8("k"), ByteString.CopyFrom(0))).Count());
        Assert.Empty(index.Scan(KeyRange.FromRequest(ByteString.CopyFromUtf8("z"), ByteString.CopyFrom(0))));
        Assert.Single(index.Scan(KeyRange.ForKey(Key(999))));
        Assert.Empty(index.Scan(KeyRange.ForKey(Key(1000))));
    }

    [Fact]
    public void Keys_that_share_their_first_8_bytes_or_are_shorter_sort_as_bytes()
    {
        // Short keys, zero bytes, 0xff bytes and long shared prefixes: the cases where comparing the first
        // 8 bytes as a number must fall back to the bytes, or must agree with them.
        byte[] alphabet = [0x00, 0x01, (byte)'a', 0x7f, 0x80, 0xff];
        var random = new Random(11);
        ByteString RandomKey()
        {
            var shared = random.Next(3) switch { 0 => 0, 1 => 7, _ => 8 };
            var bytes = new byte[shared + random.Next(0, 6)];
            for (var i = 0; i < bytes.Length; i++)
                bytes[i] = i < shared ? (byte)'p' : alphabet[random.Next(alphabet.Length)];
            return ByteString.CopyFrom(bytes);
        }

        var index = new KeyIndex();
        var expected = new SortedSet<ByteString>(ByteKeyComparer.Instance);
        for (var i = 0; i < 20_000; i++)
        {
            var key = RandomKey();
            if (random.Next(5) == 0)
            {
                Assert.Equal(expected.Remove(key), index.Remove(key));
            }
            else
            {
                index.GetOrAdd(key);
                expected.Add(key);
            }
        }

        Assert.True(expected.Count > 2 * KeyIndex.MaxChunkSize, "enough keys for several chunks");
        Assert.Equal(expected.Count, index.Count);
        Assert.Equal(expected, index.All().Select(h => h.Key));
        for (var i = 0; i < 200; i++)
        {
            var from = RandomKey();
            var to = RandomKey();
            if (ByteKeyComparer.Instance.Compare(from, to) > 0)
                (from, to) = (to, from);
            // An empty range end asks for one key, and "\0" for every key from the start (etcd's conventions).
            if (to.Length == 0 || (to.Length == 1 && to[0] == 0) || from.Equals(to))
                continue;
            var want = expected.Where(k => ByteKeyComparer.Instance.Compare(k, from) >= 0 && ByteKeyComparer.Instance.Compare(k, to) < 0);
            Assert.Equal(want, index.Scan(KeyRange.FromRequest(from, to)).Select(h => h.Key));
        }
    }

    [Theory]
    [InlineData("", "\0")]
    [InlineData("a", "a\0")]
    [InlineData("abcdefgh", "abcdefgh\0")]
    [InlineData("abcdefg", "abcdefh")]
    [InlineData("\u007f", "\u0080")]
    public void Prefix_numbers_never_contradict_the_byte_order(string lower, string higher)
    {
        var a = System.Text.Encoding.Latin1.GetBytes(lower);
        var b = System.Text.Encoding.Latin1.GetBytes(higher);
        Assert.True(ByteKeyComparer.Compare(a, b) < 0);
        Assert.True(KeyChunk.PrefixOf(a) <= KeyChunk.PrefixOf(b));
    }
}
