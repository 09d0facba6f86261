using Kvorum.Etcd.Api;

namespace Kvorum.Server.Watch;

/// <summary>How the registry hands revisions over: to synced watchers as they are committed, to unsynced ones from the history.</summary>
internal sealed partial class WatcherRegistry
{
    /// <summary>
    /// A write created <paramref name="revision"/> with <paramref name="events"/> (prev_kv included, in the order the
    /// write made them): each synced watcher they concern is queued one response holding its events of that revision,
    /// or, when its stream has its bound queued already, is moved to the unsynced set at this revision. Never waits.
    /// </summary>
    public void OnCommitted(long revision, IReadOnlyList<Event> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _owner.AssertOwned();
        if (_count == 0)
            return;
        // While every watcher is synced, no catch-up reads further back than the revision being handed over (a
        // watcher that cannot take it catches up from it), so only that one is kept: a run of the last writes kept
        // for nobody outlived the young generation's collections on every write while any watcher was open. A watch
        // created later with a start among those revisions reads the key index instead, as etcd's always do.
        if (_unsynced.Count == 0)
            _recent.Clear();
        _recent.Add(revision, events);
        _commitEvents.Begin(events);
        for (var i = 0; i < events.Count; i++)
        {
            var key = events[i].Kv.Key;
            if (_syncedByKey.TryGetValue(key, out var exact))
            {
                foreach (var watcher in exact)
                    Gather(watcher, revision, events, i);
            }
            if (_syncedRanges.Count > 0)
            {
                _syncedRanges.Containing(key.Span, _rangeGroups);
                foreach (var group in _rangeGroups)
                {
                    foreach (var watcher in group)
                        Gather(watcher, revision, events, i);
                }
                _rangeGroups.Clear();
            }
        }
        foreach (var watcher in _gathering)
        {
            var response = watcher.Gathering!;
            var bytes = watcher.GatheringBytes;
            watcher.Gathering = null;
            if (watcher.Pending.Responses >= MaxPendingResponses
                || (watcher.Pending.Responses > 0 && watcher.Pending.Bytes + bytes > MaxPendingBytes))
            {
                // Its stream is not keeping up: this revision and the later ones come from the history once it has.
                watcher.NextRevision = revision;
                MoveToUnsynced(watcher);
                CatchUpOnceDrained(watcher);
                Overflows++;
                continue;
            }
            watcher.Stream.Send(response, watcher, bytes);
            watcher.NextRevision = revision + 1;
            watcher.HadEventsSinceProgress = true;
        }
        _gathering.Clear();
    }

    /// <summary>
    /// Adds event <paramref name="index"/> of the commit to <paramref name="watcher"/>'s response of the revision,
    /// started here on its first event; the events and their sizes, with and without prev_kv, are made once per
    /// commit (<see cref="CommitEvents"/>) and shared by every watcher they go to.
    /// </summary>
    private void Gather(Watcher watcher, long revision, IReadOnlyList<Event> events, int index)
    {
        // A watcher that starts in the future skips what comes before its start.
        if (watcher.NextRevision > revision)
            return;
        var change = events[index];
        if (!watcher.Wants(change))
            return;
        var (shared, size) = _commitEvents.For(index, withPrevKv: watcher.PrevKv);
        if (watcher.Gathering is not { } response)
        {
            response = new WatchResponse { Header = new ResponseHeader { Revision = revision }, WatchId = watcher.Id };
            // Most writes change one key: room for one event rather than the eight a first add makes room for.
            if (events.Count == 1)
                response.Events.Capacity = 1;
            watcher.Gathering = response;
            watcher.GatheringBytes = response.CalculateSize();
            _gathering.Add(watcher);
        }
        response.Events.Add(shared);
        watcher.GatheringBytes += size;
    }

    /// <summary>
    /// One pass over at most <see cref="MaxWatchersPerPass"/> unsynced watchers whose streams have sent everything
    /// queued for them: one whose next revision is compacted is cancelled with the compaction revision (header
    /// revision 0 and no reason, as etcd's); one that has reached the store becomes synced; the others are given their
    /// next batch of history (<see cref="CatchUp"/>), from the latest revisions when they reach back far enough and
    /// from the key index otherwise, built off the loop and handed over back on it.
    /// </summary>
    public void CatchUpPass()
    {
        _owner.AssertOwned();
        _drainedSincePass = 0;
        if (_unsynced.Count == 0)
            return;
        foreach (var watcher in _unsynced)
        {
            if (_picked.Count == MaxWatchersPerPass)
                break;
            if (!watcher.CatchingUp && watcher.Pending.Responses == 0)
                _picked.Add(watcher);
        }
        List<CatchUp>? batches = null;
        foreach (var watcher in _picked)
            Advance(watcher, ref batches);
        _picked.Clear();
        Build(batches);
    }

    /// <summary>
    /// The stream has sent everything queued for <paramref name="watcher"/>, which was waiting for that to catch up
    /// (<see cref="Watcher.AwaitDrain"/>): it is given its next batch now rather than at the next pass, unless
    /// <see cref="MaxWatchersPerPass"/> were served so since the last pass, so that a crowd of slow watchers costs the
    /// loop no more between two ticks than one pass does; the next pass then picks it up.
    /// </summary>
    public void CatchUpDrained(Watcher watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        _owner.AssertOwned();
        if (watcher.Removed || watcher.Synced || watcher.CatchingUp || watcher.Pending.Responses > 0)
            return;
        if (_drainedSincePass++ >= MaxWatchersPerPass)
            return;
        List<CatchUp>? batches = null;
        Advance(watcher, ref batches);
        Build(batches);
    }

    /// <summary>
    /// One unsynced watcher's step: cancelled if its next revision is compacted, synced if it has reached the store,
    /// otherwise its next batch is taken into <paramref name="batches"/>.
    /// </summary>
    private void Advance(Watcher watcher, ref List<CatchUp>? batches)
    {
        if (watcher.NextRevision < _store.CompactRevision)
        {
            // Its id stays the stream's until the client cancels it or the stream ends, as in etcd: a cancel is
            // answered, and a new watch cannot take the id.
            Remove(watcher);
            watcher.Stream.Send(new WatchResponse
            {
                Header = new ResponseHeader { Revision = 0 },
                WatchId = watcher.Id,
                Canceled = true,
                CompactRevision = _store.CompactRevision,
            });
            return;
        }
        if (watcher.NextRevision > _store.Revision)
        {
            _unsynced.Remove(watcher);
            AddSynced(watcher);
            return;
        }
        watcher.CatchingUp = true;
        var batch = CatchUp.FromRecent(watcher, _recent, _store.Revision) ?? CatchUp.Take(watcher, _store);
        if (batch.IsFromRecent)
            CatchUpsFromRecent++;
        (batches ??= []).Add(batch);
    }

    /// <summary>
    /// Has <paramref name="watcher"/> given its next batch as soon as its stream has sent what is queued for it: by the
    /// stream's writer when something is still queued, from here when nothing is (the mark is taken once, by one side).
    /// </summary>
    private void CatchUpOnceDrained(Watcher watcher)
    {
        watcher.AwaitDrain();
        if (watcher.TakeDrained())
            _postToLoop(() => CatchUpDrained(watcher));
    }

    /// <summary>Builds <paramref name="batches"/> off the loop and hands them over back on it.</summary>
    private void Build(List<CatchUp>? batches)
    {
        if (batches is null)
            return;
        _runOffLoop(() =>
        {
            foreach (var batch in batches)
                batch.Build();
            _postToLoop(() => HandOver(batches));
        });
    }

    /// <summary>Back on the loop: queues each built batch and makes its watcher synced if nothing newer is left.</summary>
    private void HandOver(List<CatchUp> batches)
    {
        _owner.AssertOwned();
        foreach (var batch in batches)
        {
            var watcher = batch.Watcher;
            watcher.CatchingUp = false;
            if (watcher.Removed)
                continue;
            if (batch.Response is { } response)
            {
                // As etcd's, a batch from the history carries the store's current revision.
                response.Header = new ResponseHeader { Revision = _store.Revision };
                watcher.Stream.Send(response, watcher, response.CalculateSize());
                watcher.HadEventsSinceProgress = true;
            }
            watcher.NextRevision = batch.Through + 1;
            if (watcher.NextRevision > _store.Revision && !watcher.Synced)
            {
                _unsynced.Remove(watcher);
                AddSynced(watcher);
            }
            else
            {
                CatchUpOnceDrained(watcher);
            }
        }
    }
}
