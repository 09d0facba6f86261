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
        _recent.Add(revision, events);
        // The events without prev_kv, made once per commit for every watcher that did not ask for it.
        Event?[]? stripped = null;
        for (var i = 0; i < events.Count; i++)
        {
            var change = events[i];
            var key = change.Kv.Key;
            if (_syncedByKey.TryGetValue(key, out var exact))
            {
                foreach (var watcher in exact)
                    Gather(watcher, revision, events, i, ref stripped);
            }
            if (_syncedRanges.Count > 0)
            {
                _syncedRanges.Containing(key.Span, _rangeGroups);
                foreach (var group in _rangeGroups)
                {
                    foreach (var watcher in group)
                        Gather(watcher, revision, events, i, ref stripped);
                }
                _rangeGroups.Clear();
            }
        }
        foreach (var watcher in _gathering)
        {
            var response = new WatchResponse { Header = new ResponseHeader { Revision = revision }, WatchId = watcher.Id };
            response.Events.AddRange(watcher.Gathered!);
            watcher.Gathered = null;
            var bytes = response.CalculateSize();
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

    private void Gather(Watcher watcher, long revision, IReadOnlyList<Event> events, int index, ref Event?[]? stripped)
    {
        // A watcher that starts in the future skips what comes before its start.
        if (watcher.NextRevision > revision)
            return;
        var change = events[index];
        if (!watcher.Wants(change))
            return;
        if (!watcher.PrevKv && change.PrevKv is not null)
        {
            stripped ??= new Event?[events.Count];
            change = stripped[index] ??= new Event { Type = change.Type, Kv = change.Kv };
        }
        if (watcher.Gathered is null)
        {
            watcher.Gathered = [];
            _gathering.Add(watcher);
        }
        watcher.Gathered.Add(change);
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
