using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// Seeded random KV requests over a small key space, built to reach etcd's corners: ranges of one key, of a prefix,
/// from a key on, between two keys (also backwards) and over everything; limits, sorting on every target, the
/// revision filters, old, compacted and future revisions; puts with prev_kv, ignore_value and a lease; transactions
/// with compares on every target (also over ranges), nested transactions and duplicate keys; compactions. Some
/// requests are invalid on purpose (no key, a value with ignore_value), so the errors are compared too.
/// </summary>
internal sealed class KvRequestGenerator(int seed)
{
    // Prefixes of each other, neighbours in byte order, and keys ending in 0xFF (whose prefix end carries over).
    private static readonly byte[][] Keys = [.. new[] { "a", "a/1", "a/2", "a/3", "ab", "b", "b/x", "b/y", "c" }.Select(System.Text.Encoding.UTF8.GetBytes), [0x7A, 0xFF], [0x7A, 0xFF, 0x01]];

    private static readonly string[] Values = ["", "v", "v1", "v2", "w", "long value " + new string('x', 40)];

    private readonly Random _random = new(seed);

    /// <summary>The newest revision seen so far (from the reference's answers); requests pick revisions around it.</summary>
    public long Revision { get; set; } = 1;

    /// <summary>The compaction revision asked for last, if any.</summary>
    public long Compacted { get; set; }

    public IMessage Next()
    {
        var roll = _random.Next(100);
        return roll switch
        {
            < 30 => NextPut(),
            < 60 => NextRange(),
            < 72 => NextDelete(),
            < 98 => WithoutEtcdPanic(NextTxn(depth: 0)),
            _ => NextCompaction(),
        };
    }

    private bool Chance(int percent) => _random.Next(100) < percent;

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private ByteString Key() => ByteString.CopyFrom(Pick(Keys));

    // One value in 500 is over etcd's request limit (1.5 MiB by default): "etcdserver: request is too large".
    private ByteString Value() =>
        Chance(10) ? ByteString.CopyFrom(RandomBytes())
        : _random.Next(500) == 0 ? ByteString.CopyFrom(new byte[(3 << 19) + 1])
        : ByteString.CopyFromUtf8(Pick(Values));

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(1, 12)];
        _random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A key and a range end of every kind etcd defines.</summary>
    private (ByteString Key, ByteString End) KeyRange()
    {
        var key = Key();
        var roll = _random.Next(100);
        return roll switch
        {
            < 35 => (key, ByteString.Empty), // one key
            < 60 => (key, PrefixEnd(key)), // the prefix
            < 70 => (key, ByteString.CopyFrom(0)), // every key from `key` on
            < 90 => (key, Key()), // [key, other): empty when other <= key
            < 95 => (ByteString.CopyFrom(0), ByteString.CopyFrom(0)), // everything
            _ => (ByteString.CopyFrom(0), Key()),
        };
    }

    /// <summary>The end of the range of keys that start with <paramref name="prefix"/>, as etcd's clientv3.GetPrefixRangeEnd.</summary>
    private static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return ByteString.CopyFrom(end.AsSpan(0, i + 1));
            }
        }
        return ByteString.CopyFrom(0); // all 0xFF: every key from the prefix on
    }

    /// <summary>0 mostly; otherwise a revision at or near the compacted one, an old one, the newest, or one in the future.</summary>
    private long ReadRevision()
    {
        if (Chance(70))
            return 0;
        return _random.Next(7) switch
        {
            6 => -1 - _random.Next(3),
            0 => Math.Max(1, Compacted),
            1 => Math.Max(1, Compacted - 1),
            2 => Revision,
            3 => Revision + 1 + _random.Next(3),
            _ => 1 + _random.NextInt64(Math.Max(1, Revision)),
        };
    }

    private long SomeRevision() => _random.NextInt64(0, Revision + 3);

    internal RangeRequest NextRange()
    {
        var (key, end) = KeyRange();
        var r = new RangeRequest
        {
            Key = Chance(2) ? ByteString.Empty : key,
            RangeEnd = end,
            Limit = Chance(60) ? 0 : Chance(5) ? -1 : _random.Next(1, 5),
            Revision = ReadRevision(),
            Serializable = Chance(30),
            KeysOnly = Chance(15),
            CountOnly = Chance(10),
        };
        if (Chance(40))
        {
            r.SortOrder = (RangeRequest.Types.SortOrder)_random.Next(3);
            r.SortTarget = (RangeRequest.Types.SortTarget)_random.Next(5);
        }
        if (Chance(15))
            r.MinModRevision = SomeRevision();
        if (Chance(15))
            r.MaxModRevision = SomeRevision();
        if (Chance(15))
            r.MinCreateRevision = SomeRevision();
        if (Chance(15))
            r.MaxCreateRevision = SomeRevision();
        return r;
    }

    internal PutRequest NextPut()
    {
        var p = new PutRequest { Key = Chance(2) ? ByteString.Empty : Key(), Value = Value(), PrevKv = Chance(50) };
        if (Chance(6))
        {
            p.IgnoreValue = true;
            if (!Chance(20))
                p.Value = ByteString.Empty;
        }
        if (Chance(3))
            p.Lease = 1 + _random.Next(1000);
        if (Chance(3))
            p.IgnoreLease = true;
        return p;
    }

    internal DeleteRangeRequest NextDelete()
    {
        var (key, end) = KeyRange();
        return new DeleteRangeRequest { Key = Chance(2) ? ByteString.Empty : key, RangeEnd = end, PrevKv = Chance(50) };
    }

    internal TxnRequest NextTxn(int depth)
    {
        var t = new TxnRequest();
        var compares = _random.Next(4);
        for (var i = 0; i < compares; i++)
            t.Compare.Add(NextCompare());
        var successes = _random.Next(depth == 0 ? 4 : 3);
        for (var i = 0; i < successes; i++)
            t.Success.Add(NextRequestOp(depth));
        var failures = _random.Next(depth == 0 ? 4 : 3);
        for (var i = 0; i < failures; i++)
            t.Failure.Add(NextRequestOp(depth));
        if (depth == 0 && _random.Next(200) == 0)
        {
            // Over etcd's --max-txn-ops (128): "etcdserver: too many operations in txn request".
            while (t.Success.Count <= 128)
                t.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key() } });
        }
        return t;
    }

    /// <summary>
    /// etcd crashes (panics in applyTxn, and again replaying its log) on a txn that deletes every key from some key on
    /// and puts with ignore_value or ignore_lease: its checks pass against the state before the txn, and the put then
    /// finds its key deleted. Kvorum refuses such a txn with "key not found"; the reference cannot answer it, so the
    /// generator drops those two flags from a txn that has such a delete.
    /// </summary>
    private static TxnRequest WithoutEtcdPanic(TxnRequest txn)
    {
        if (Ops(txn).Any(op => op.RequestCase == RequestOp.RequestOneofCase.RequestDeleteRange && op.RequestDeleteRange.RangeEnd.Length == 1 && op.RequestDeleteRange.RangeEnd[0] == 0))
        {
            foreach (var op in Ops(txn).Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestPut))
            {
                op.RequestPut.IgnoreValue = false;
                op.RequestPut.IgnoreLease = false;
            }
        }
        return txn;

        static IEnumerable<RequestOp> Ops(TxnRequest t) =>
            t.Success.Concat(t.Failure).SelectMany(op => op.RequestCase == RequestOp.RequestOneofCase.RequestTxn ? Ops(op.RequestTxn).Prepend(op) : [op]);
    }

    private RequestOp NextRequestOp(int depth)
    {
        var roll = _random.Next(100);
        if (_random.Next(200) == 0)
            return new RequestOp(); // no request at all: etcd's "key not found"
        if (roll < 10 && depth < 2)
            return new RequestOp { RequestTxn = NextTxn(depth + 1) };
        if (roll < 45)
            return new RequestOp { RequestPut = NextPut() };
        if (roll < 80)
            return new RequestOp { RequestRange = NextRange() };
        return new RequestOp { RequestDeleteRange = NextDelete() };
    }

    private Compare NextCompare()
    {
        var c = new Compare
        {
            Key = Key(),
            Result = (Compare.Types.CompareResult)_random.Next(4),
            Target = (Compare.Types.CompareTarget)_random.Next(5),
        };
        if (Chance(20))
            c.RangeEnd = Chance(50) ? PrefixEnd(c.Key) : ByteString.CopyFrom(0);
        switch (c.Target)
        {
            case Compare.Types.CompareTarget.Version:
                c.Version = _random.Next(0, 5);
                break;
            case Compare.Types.CompareTarget.Create:
                c.CreateRevision = SomeRevision();
                break;
            case Compare.Types.CompareTarget.Mod:
                c.ModRevision = SomeRevision();
                break;
            case Compare.Types.CompareTarget.Value:
                c.Value = Value();
                break;
            default:
                c.Lease = Chance(80) ? 0 : 1;
                break;
        }
        return c;
    }

    internal CompactionRequest NextCompaction()
    {
        // Mostly part of the way from the last compaction to the newest revision (so some history stays to be read
        // back), sometimes the newest, at the last compaction, in the future, or 0.
        var revision = _random.Next(6) switch
        {
            5 => 0,
            0 => Revision,
            1 => Math.Max(1, Compacted),
            2 => Revision + 1 + _random.Next(3),
            _ => Math.Max(1, Compacted + 1 + _random.NextInt64(Math.Max(1, (Revision - Compacted) / 2))),
        };
        return new CompactionRequest { Revision = revision, Physical = Chance(50) };
    }
}
