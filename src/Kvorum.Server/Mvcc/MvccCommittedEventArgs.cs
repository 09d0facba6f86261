using Kvorum.Etcd.Api;

namespace Kvorum.Server.Mvcc;

/// <summary>What one write committed to a <see cref="MvccStore"/>: its revision and its changes.</summary>
internal sealed class MvccCommittedEventArgs : EventArgs
{
    /// <summary>Creates the notification.</summary>
    /// <param name="revision">The revision the write created.</param>
    /// <param name="events">The changes, in the order they were made.</param>
    public MvccCommittedEventArgs(long revision, IReadOnlyList<Event> events)
    {
        Revision = revision;
        Events = events;
    }

    /// <summary>The revision the write created.</summary>
    public long Revision { get; }

    /// <summary>The changes, in the order they were made; each carries its prev_kv when there was one.</summary>
    public IReadOnlyList<Event> Events { get; }
}
