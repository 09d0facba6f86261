using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// Snapshots a leader sent that arrived complete (each written to a file as it came), by index, kept until the Raft
/// core installs one. Only the newest few can still be installed, so older files are dropped as newer ones arrive;
/// installing one drops the others.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>); disposed once the loop has stopped.</remarks>
internal sealed class ReceivedSnapshots : IDisposable
{
    /// <summary>How many are kept at most.</summary>
    public const int MaxKept = 2;

    private readonly Dictionary<ulong, SnapshotReceiver> _byIndex = [];
    private readonly LoopOwner _owner;

    /// <summary>Creates the table of one member; a test passes no <paramref name="owner"/>.</summary>
    public ReceivedSnapshots(LoopOwner? owner = null) => _owner = owner ?? new LoopOwner();

    /// <summary>The indexes of the snapshots kept.</summary>
    public IEnumerable<ulong> Indexes => _byIndex.Keys;

    /// <summary>Keeps <paramref name="received"/>, in place of one at the same index; drops the oldest beyond <see cref="MaxKept"/>.</summary>
    public void Add(SnapshotReceiver received)
    {
        ArgumentNullException.ThrowIfNull(received);
        _owner.AssertOwned();
        if (_byIndex.Remove(received.Index, out var older))
            older.Dispose();
        _byIndex[received.Index] = received;
        while (_byIndex.Count > MaxKept)
        {
            var oldest = _byIndex.Keys.Min();
            _byIndex.Remove(oldest, out var dropped);
            dropped!.Dispose();
        }
    }

    /// <summary>Takes the snapshot at <paramref name="index"/> to install it, and drops the others.</summary>
    /// <exception cref="InvalidOperationException">None arrived at that index.</exception>
    public SnapshotReceiver Take(ulong index)
    {
        _owner.AssertOwned();
        if (!_byIndex.Remove(index, out var received))
            throw new InvalidOperationException($"told to install snapshot {index} that never arrived");
        Dispose();
        return received;
    }

    /// <summary>Drops every snapshot kept.</summary>
    public void Dispose()
    {
        _owner.AssertOwned();
        foreach (var received in _byIndex.Values)
            received.Dispose();
        _byIndex.Clear();
    }
}
