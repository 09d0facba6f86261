using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// Seeded random steps for the watch-and-lease differential run: the KV requests of <see cref="KvRequestGenerator"/>
/// mixed with lease requests (grants with and without an id, duplicate ids, TTLs under the minimum and over the
/// maximum; revokes, time-to-live with and without keys, the list of leases, one-shot keep-alives, puts attached to a
/// lease) and watches opened on one of several streams (single keys, prefixes, ranges, from a key, everything; start
/// revision now, past, at and around the compaction, future; NOPUT, NODELETE, prev_kv, client-chosen ids, duplicates
/// among them) and cancelled. Now and then an <em>expiry phase</em>: a lease with a TTL at etcd's minimum gets a few
/// keys, maybe a keep-alive, and then nothing else happens until both servers have expired it, so the revision of
/// its keys' deletion is the same on both. Leases granted outside a phase live far longer than a run.
/// </summary>
/// <remarks>
/// The generator learns from the reference's answers (<see cref="Observe"/>): the newest revision, the compaction,
/// and which lease ids exist. It picks among them by position, so a seed gives the same steps whatever ids the
/// reference chose.
/// </remarks>
internal sealed class WatchLeaseStepGenerator(int seed, int streams)
{
    /// <summary>TTLs of leases that outlive the run; the last is etcd's maximum, and one over it is refused.</summary>
    private static readonly long[] LongTtls = [300, 600, 3600, 86_400, 9_000_000_000];

    /// <summary>TTLs of expiry-phase leases: all at or under etcd's minimum (2 s here) but the last.</summary>
    private static readonly long[] ShortTtls = [-5, 0, 1, 2, 3];

    private readonly Random _random = new(seed ^ 0x3C3C3C);
    private readonly List<long> _live = [];
    private readonly List<long> _gone = [];
    private readonly List<int>[] _watches = [.. Enumerable.Range(0, streams).Select(_ => new List<int>())];
    private readonly Queue<Func<WatchLeaseStep?>> _phase = new();
    private long _phaseLease;
    private bool _phaseGrantPending;
    private long _nextExplicitId = 10_000;

    /// <summary>The KV requests, and the revision and compaction the run has reached (which its answers update).</summary>
    public KvRequestGenerator Kv { get; } = new(seed);

    /// <summary>True while an expiry phase has steps to come.</summary>
    public bool InExpiryPhase => _phase.Count > 0 || _phaseGrantPending;

    /// <summary>How many expiry phases were started.</summary>
    public int ExpiryPhases { get; private set; }

    private bool Chance(int percent) => _random.Next(100) < percent;

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>The next step.</summary>
    public WatchLeaseStep Next()
    {
        while (_phase.TryDequeue(out var phaseStep))
        {
            if (phaseStep() is { } step)
                return step;
        }
        var roll = _random.Next(1000);
        return roll switch
        {
            < 520 => new RequestStep(Kv.Next()),
            < 590 => new RequestStep(NextLongGrant()),
            < 630 => new RequestStep(new LeaseRevokeRequest { ID = SomeLease() }),
            < 680 => new RequestStep(new LeaseTimeToLiveRequest { ID = SomeLease(), Keys = Chance(60) }),
            < 700 => new RequestStep(new LeaseLeasesRequest()),
            < 740 => new RequestStep(new LeaseKeepAliveRequest { ID = SomeLease() }),
            < 810 => new RequestStep(PutWithLease(SomeLease())),
            < 900 => NextOpenWatch(),
            < 985 => (WatchLeaseStep?)NextCancelWatch() ?? new RequestStep(Kv.Next()),
            _ => StartExpiryPhase(),
        };
    }

    /// <summary>Learns from the reference's answer to <paramref name="step"/> (null when it answered with an error).</summary>
    public void Observe(WatchLeaseStep step, IMessage? answer)
    {
        if (step is not RequestStep { Request: var request })
            return;
        if (_phaseGrantPending && request is LeaseGrantRequest)
        {
            // The phase goes on only if its lease was granted.
            _phaseGrantPending = false;
            _phaseLease = (answer as LeaseGrantResponse)?.ID ?? 0;
            return;
        }
        if (answer is null)
            return;
        if (answer.Descriptor.FindFieldByName("header")?.Accessor.GetValue(answer) is ResponseHeader header)
            Kv.Revision = Math.Max(Kv.Revision, header.Revision);
        switch (request, answer)
        {
            case (CompactionRequest c, _):
                Kv.Compacted = c.Revision;
                break;
            case (LeaseGrantRequest, LeaseGrantResponse r) when string.IsNullOrEmpty(r.Error):
                _live.Add(r.ID);
                break;
            case (LeaseRevokeRequest v, _):
                _live.Remove(v.ID);
                _gone.Add(v.ID);
                break;
        }
    }

    /// <summary>Marks the phase's lease expired (the run waited for it).</summary>
    public void Expired(long id) => _gone.Add(id);

    /// <summary>A live lease mostly; otherwise one that is gone, or one that never was.</summary>
    private long SomeLease()
    {
        var roll = _random.Next(100);
        if (roll < 75 && _live.Count > 0)
            return Pick(_live);
        if (roll < 90 && _gone.Count > 0)
            return Pick(_gone);
        return 1 + _random.Next(1000);
    }

    private LeaseGrantRequest NextLongGrant()
    {
        var roll = _random.Next(100);
        var id = roll switch
        {
            < 45 => 0, // the server chooses
            < 55 when _live.Count > 0 => Pick(_live), // "lease already exists"
            < 60 when _gone.Count > 0 => Pick(_gone), // an id used before
            < 63 => -1 - _random.Next(1000), // etcd takes negative ids as they come
            _ => 1 + _random.Next(1000), // explicit; the KV generator's puts name ids in this range too
        };
        var ttl = Chance(4) ? LongTtls[^1] + 1 + _random.Next(3) : Pick(LongTtls);
        return new LeaseGrantRequest { ID = id, TTL = ttl };
    }

    private PutRequest PutWithLease(long lease)
    {
        var put = Kv.NextPut();
        put.Lease = lease;
        put.IgnoreLease = Chance(5);
        if (Chance(80))
            put.IgnoreValue = false;
        return put;
    }

    private OpenWatchStep NextOpenWatch()
    {
        var stream = _random.Next(_watches.Length);
        var range = Kv.NextRange();
        var create = new WatchCreateRequest
        {
            Key = range.Key,
            RangeEnd = range.RangeEnd,
            StartRevision = WatchStart(),
            PrevKv = Chance(50),
            Fragment = Chance(5),
        };
        if (Chance(15))
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        if (Chance(15))
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        if (Chance(10))
            create.WatchId = _random.Next(8); // also ids the server gave out already: etcd's duplicate-id answer
        var ordinal = _watches[stream].Count;
        _watches[stream].Add(ordinal);
        return new OpenWatchStep(stream, ordinal, create);
    }

    /// <summary>0 (now) half the time; otherwise a past revision, one at or around the compaction, or a future one.</summary>
    private long WatchStart()
    {
        if (Chance(50))
            return 0;
        var compacted = Kv.Compacted;
        return _random.Next(6) switch
        {
            0 => Math.Max(1, compacted),
            1 => Math.Max(1, compacted - 1),
            2 => compacted + 1,
            3 => Kv.Revision + 1 + _random.Next(3),
            _ => 1 + _random.NextInt64(Math.Max(1, Kv.Revision)),
        };
    }

    private CancelWatchStep? NextCancelWatch()
    {
        var stream = _random.Next(_watches.Length);
        var open = _watches[stream];
        if (open.Count == 0)
            return null;
        return new CancelWatchStep(stream, Pick(open));
    }

    /// <summary>
    /// Grant (the server's id or a fresh explicit one), up to three puts on it, maybe a keep-alive and a time-to-live,
    /// the wait for its expiry, then its time-to-live and every key, read after it.
    /// </summary>
    private RequestStep StartExpiryPhase()
    {
        ExpiryPhases++;
        var explicitId = Chance(50) ? _nextExplicitId++ : 0;
        _phaseGrantPending = true;
        var puts = _random.Next(4);
        for (var i = 0; i < puts; i++)
            _phase.Enqueue(() => _phaseLease == 0 ? null : new RequestStep(PutWithLease(_phaseLease)));
        if (Chance(40))
            _phase.Enqueue(() => _phaseLease == 0 ? null : new RequestStep(new LeaseKeepAliveRequest { ID = _phaseLease }));
        if (Chance(40))
            _phase.Enqueue(() => _phaseLease == 0 ? null : new RequestStep(new LeaseTimeToLiveRequest { ID = _phaseLease, Keys = true }));
        _phase.Enqueue(() => _phaseLease == 0 ? null : new AwaitExpiryStep(_phaseLease));
        _phase.Enqueue(() => _phaseLease == 0 ? null : new RequestStep(new LeaseTimeToLiveRequest { ID = _phaseLease, Keys = true }));
        _phase.Enqueue(() =>
        {
            var id = _phaseLease;
            _phaseLease = 0;
            return id == 0 ? null : new RequestStep(new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) });
        });
        return new RequestStep(new LeaseGrantRequest { ID = explicitId, TTL = Pick(ShortTtls) });
    }
}
