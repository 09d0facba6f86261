using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Builds watch <see cref="Event"/>s from key histories, in etcd's form: a put carries the new
/// key-value; a delete carries only the key and the deleting revision as mod_revision; prev_kv is
/// the version at the revision before the change's, when it is still in the history.
/// </summary>
internal static class ChangeEvents
{
    /// <summary>The event for entry <paramref name="position"/> of <paramref name="history"/>.</summary>
    public static Event At(KeyHistory history, int position) => At(history.Key, history.Versions, position);

    /// <summary>
    /// The event for entry <paramref name="position"/> of <paramref name="versions"/>, the history of
    /// <paramref name="key"/> or a slice of it that a watcher catching up reads off the loop (<see cref="KeyHistory.Share"/>).
    /// </summary>
    public static Event At(ByteString key, ReadOnlySpan<KeyVersion> versions, int position)
    {
        var version = versions[position];
        var change = new Event
        {
            Type = version.IsTombstone ? Event.Types.EventType.Delete : Event.Types.EventType.Put,
            Kv = version.IsTombstone
                ? new KeyValue { Key = key, ModRevision = version.Revision.Main }
                : version.ToKeyValue(key),
        };
        // etcd's prev_kv is the key as it was at the revision before the event's (a read at mod_revision - 1), none
        // for a put that creates the key: an earlier change in the same transaction is not it.
        if (version.IsTombstone || change.Kv.CreateRevision != change.Kv.ModRevision)
        {
            var before = position - 1;
            while (before >= 0 && versions[before].Revision.Main == version.Revision.Main)
                before--;
            if (before >= 0 && versions[before] is { IsTombstone: false } previous)
                change.PrevKv = previous.ToKeyValue(key);
        }
        return change;
    }

    /// <summary>Every change to a key in <paramref name="range"/> at or after <paramref name="startRevision"/>,
    /// ordered by revision and, within one revision, by the order the changes were made.</summary>
    public static List<Event> Since(KeyIndex index, KeyRange range, long startRevision)
    {
        var found = new List<(Revision Revision, Event Change)>();
        foreach (var history in index.Scan(range))
            AddChanges(history.Key, history.Versions, startRevision, long.MaxValue, found);
        SortByRevision(found);
        return [.. found.Select(item => item.Change)];
    }

    /// <summary>
    /// Adds to <paramref name="found"/> the event of each entry of <paramref name="versions"/> (the history of
    /// <paramref name="key"/>, or a shared slice of it) from revision <paramref name="from"/> to <paramref name="to"/>.
    /// </summary>
    public static void AddChanges(ByteString key, ReadOnlySpan<KeyVersion> versions, long from, long to, List<(Revision Revision, Event Change)> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        for (var i = versions.Length - 1; i >= 0 && versions[i].Revision.Main >= from; i--)
        {
            if (versions[i].Revision.Main <= to)
                found.Add((versions[i].Revision, At(key, versions, i)));
        }
    }

    /// <summary>Puts changes gathered key by key in the order of the store's writes: by revision, then by the order within one.</summary>
    public static void SortByRevision(List<(Revision Revision, Event Change)> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        found.Sort(static (a, b) => a.Revision.CompareTo(b.Revision));
    }
}
