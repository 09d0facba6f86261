using Kvorum.Etcd.Api;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// Where a watch resumes after its stream broke: the revision after the last event printed, or, for a watch of
/// "from now" that has printed nothing, the revision after the one its stream was created at; and how many streams
/// in a row have failed without an answer. Used by one watch loop at a time (<c>kvorum watch</c>'s, <see cref="ResumingWatch"/>).
/// </summary>
internal sealed class WatchResume(WatchCreateRequest create)
{
    private int _failuresInARow;

    /// <summary>The create request for the next stream.</summary>
    public WatchCreateRequest Request { get; } = create.Clone();

    /// <summary>Notes an answer: the stream works, and the watch goes on after what it carried.</summary>
    public void Saw(WatchResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _failuresInARow = 0;
        if (response.Events.Count > 0)
            Request.StartRevision = response.Events[^1].Kv.ModRevision + 1;
        else if (response.Created && Request.StartRevision == 0 && response.Header is { Revision: > 0 } header)
            Request.StartRevision = header.Revision + 1;
    }

    /// <summary>Notes a broken stream; returns how many have broken in a row.</summary>
    public int Failed() => ++_failuresInARow;
}
