using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Watch;

/// <summary>
/// One watch of one stream: its id, its keys, what it filters out, and the next revision it is owed. It is synced
/// (the registry hands it each revision as it is committed) or unsynced (behind the store: it catches up from the
/// history, <see cref="CatchUp"/>). What it has been handed but the stream has not yet sent is counted in
/// <see cref="Pending"/>, which bounds its share of the stream's queue.
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="Node.LoopOwner"/>) through its <see cref="WatcherRegistry"/>, except
/// <see cref="Pending"/>, which the stream's writer also lowers as it sends, and the drain mark
/// (<see cref="AwaitDrain"/>), which the writer takes.
/// </remarks>
internal sealed class Watcher
{
    private int _awaitingDrain;

    /// <summary>Creates a watcher owed every change from <paramref name="nextRevision"/> on.</summary>
    public Watcher(WatchStream stream, long id, KeyRange range, WatchCreateRequest request, long nextRevision)
    {
        ArgumentNullException.ThrowIfNull(request);
        Stream = stream;
        Id = id;
        Range = range;
        NextRevision = nextRevision;
        PrevKv = request.PrevKv;
        ProgressNotify = request.ProgressNotify;
        Fragment = request.Fragment;
        foreach (var filter in request.Filters)
        {
            if (filter == WatchCreateRequest.Types.FilterType.Noput)
                NoPut = true;
            else if (filter == WatchCreateRequest.Types.FilterType.Nodelete)
                NoDelete = true;
        }
    }

    /// <summary>The stream the watcher belongs to.</summary>
    public WatchStream Stream { get; }

    /// <summary>The watch id, unique within its stream.</summary>
    public long Id { get; }

    /// <summary>The keys watched.</summary>
    public KeyRange Range { get; }

    /// <summary>The first revision not yet handed to the stream; events below it are never sent again.</summary>
    public long NextRevision { get; set; }

    /// <summary>True while the registry hands it each committed revision; false while it catches up.</summary>
    public bool Synced { get; set; }

    /// <summary>True from the moment it is cancelled or its stream closes: nothing more is handed to it.</summary>
    public bool Removed { get; set; }

    /// <summary>True while a catch-up batch for it is being built off the loop.</summary>
    public bool CatchingUp { get; set; }

    /// <summary>The events come with the version before each change.</summary>
    public bool PrevKv { get; }

    /// <summary>It gets empty responses at the progress interval.</summary>
    public bool ProgressNotify { get; }

    /// <summary>Responses over the size limit are split into fragments.</summary>
    public bool Fragment { get; }

    /// <summary>PUT events are left out.</summary>
    public bool NoPut { get; }

    /// <summary>DELETE events are left out.</summary>
    public bool NoDelete { get; }

    /// <summary>Events were handed to it since the last progress tick, so the next tick passes it by.</summary>
    public bool HadEventsSinceProgress { get; set; }

    /// <summary>What it was handed and its stream has not sent yet.</summary>
    public PendingCount Pending { get; } = new();

    /// <summary>
    /// It is unsynced and waits for its stream to send what is queued for it before its next batch: the stream's
    /// writer, on sending the last of it, takes the mark (<see cref="TakeDrained"/>) and asks the loop for the batch
    /// at once (<see cref="WatcherRegistry.CatchUpDrained"/>). Set by the loop, which then takes it itself if nothing is
    /// queued: both sides write with a full fence before they read the other's state, so one of them always sees both.
    /// </summary>
    public void AwaitDrain() => Interlocked.Exchange(ref _awaitingDrain, 1);

    /// <summary>True once per mark, when the watcher waits for its stream to drain and nothing of it is queued any more.</summary>
    public bool TakeDrained() =>
        Volatile.Read(ref _awaitingDrain) == 1 && Pending.Responses == 0 && Interlocked.Exchange(ref _awaitingDrain, 0) == 1;

    /// <summary>Its response to the commit being handed over, gathering its events (<see cref="WatcherRegistry.OnCommitted"/>); null between commits.</summary>
    public WatchResponse? Gathering { get; set; }

    /// <summary>The encoded size of <see cref="Gathering"/>, kept as its events are added.</summary>
    public long GatheringBytes { get; set; }

    /// <summary>True when <paramref name="change"/> passes its filters.</summary>
    public bool Wants(Event change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return change.Type == Event.Types.EventType.Put ? !NoPut : !NoDelete;
    }
}
