using Google.Protobuf;
using Kvorum.Etcd.Keys;
using static Kvorum.Server.Tests.Watch.RegistryFixture;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// Range watchers are indexed (prefix ranges by prefix, the rest by range): each still gets exactly the events of the
/// keys in its range, checked against the range itself over seeded random ranges, keys and cancels.
/// </summary>
public sealed class RangeWatchersTests
{
    // Raw bytes: 0xff makes prefixes whose range end drops bytes, and an all-0xff prefix runs to the end.
    private static readonly byte[][] Alphabet = [[0x61], [0x62], [0x61, 0x62], [0xff], [0x61, 0x62, 0x63], [0x62, 0xff], [0x7a], [0x00]];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Each_range_watcher_gets_exactly_the_events_of_its_range_whatever_the_mix_of_ranges(int seed)
    {
        var random = new Random(seed);
        var f = new RegistryFixture();
        var stream = f.Open();
        var ranges = new Dictionary<long, KeyRange>();
        for (var id = 0; id < 60; id++)
        {
            var (key, end) = RandomRange(random);
            f.Registry.Create(stream, new Kvorum.Etcd.Api.WatchCreateRequest { Key = key, RangeEnd = end, WatchId = id });
            ranges[id] = KeyRange.FromRequest(key, end);
        }
        // Some are cancelled: their groups, prefix lengths and ranges must leave the index with them.
        foreach (var id in ranges.Keys.Where(_ => random.Next(4) == 0).ToList())
        {
            f.Registry.Cancel(stream, id);
            ranges.Remove(id);
        }
        Drain(stream);

        var keys = new List<ByteString>();
        var sent = new List<Kvorum.Etcd.Api.WatchResponse>();
        for (var i = 0; i < 300; i++)
        {
            var key = RandomKey(random);
            keys.Add(key);
            f.Store.Put(new Kvorum.Etcd.Api.PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v") });
            sent.AddRange(Drain(stream)); // read as a client would, so that no watcher falls behind its bound
        }
        var got = sent.Where(r => !r.Created && !r.Canceled)
            .GroupBy(r => r.WatchId)
            .ToDictionary(g => g.Key, g => g.SelectMany(r => r.Events).Select(e => e.Kv.Key).ToList());

        foreach (var (id, range) in ranges)
        {
            var expected = keys.Where(k => range.Contains(k.Span)).ToList();
            Assert.Equal(expected, got.GetValueOrDefault(id, []));
        }
        Assert.DoesNotContain(got.Keys, id => !ranges.ContainsKey(id));
    }

    private static ByteString RandomKey(Random random)
    {
        var parts = random.Next(1, 4);
        return ByteString.CopyFrom([.. Enumerable.Range(0, parts).SelectMany(_ => Alphabet[random.Next(Alphabet.Length)])]);
    }

    /// <summary>A prefix (the most), a range from a key on, all keys, or a range between two keys.</summary>
    private static (ByteString Key, ByteString End) RandomRange(Random random)
    {
        var zero = ByteString.CopyFrom(0);
        switch (random.Next(6))
        {
            case 0:
                return (RandomKey(random), zero);
            case 1:
                return (zero, zero);
            case 2:
                var (a, b) = (RandomKey(random), RandomKey(random));
                return ByteKeyComparer.Compare(a.Span, b.Span) < 0 ? (a, b) : (ByteString.CopyFrom([.. b, 0x30]), ByteString.CopyFrom([.. b, 0x31]));
            default:
                var prefix = RandomKey(random);
                return (prefix, KeyRange.PrefixEnd(prefix));
        }
    }
}
