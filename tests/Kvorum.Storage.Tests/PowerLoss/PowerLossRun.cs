using System.Text;
using Kvorum.Raft;

namespace Kvorum.Storage.Tests.PowerLoss;

/// <summary>
/// One seeded workload on a <see cref="SimulatedDisk"/>: appends with hard states, commit-only hard states, group
/// commits, snapshots created and installed (and so compactions), small segments (so they roll), and maybe one
/// process kill and restart. It keeps every state the log passes through, record by record, so that after a power
/// cut the recovered log can be checked to be one of them and no older than the last one acknowledged.
/// </summary>
internal sealed class PowerLossRun
{
    public const string DataDir = "/kvorum/data";

    private readonly Random _random;
    private readonly SimulatedDisk _disk;
    private readonly Queue<long> _kills;
    private MemoryRaftStorage _model = new();

    // The states the log went through, in order; the recovered log must be one at or after _acknowledged.
    private readonly List<string> _states = [];
    private int _acknowledged;

    /// <summary>A run of workload <paramref name="seed"/> whose processes are killed after the given numbers of disk operations.</summary>
    public PowerLossRun(int seed, SimulatedDisk disk, IEnumerable<long> killPoints)
    {
        _random = new Random(seed);
        _disk = disk;
        _kills = new Queue<long>(killPoints.Order());
        _states.Add(Describe(_model));
    }

    /// <summary>The oldest state the log may come back in.</summary>
    public string Acknowledged => _states[_acknowledged];

    public static StorageOptions Options(IFileSystem fs) => new()
    {
        DataDirectory = DataDir,
        SegmentSize = 2048,
        FileSystem = fs,
        Warning = _ => { },
    };

    /// <summary>A disk with the data directory's parent in place (made by the operator, not the storage).</summary>
    public static SimulatedDisk NewDisk()
    {
        var disk = new SimulatedDisk();
        var setup = disk.Start();
        setup.CreateDirectory("/kvorum");
        setup.SyncDirectory("/");
        return disk;
    }

    /// <summary>Runs <paramref name="steps"/> steps or until the power is cut.</summary>
    public void Run(int steps)
    {
        var process = _disk.Start(NextKill());
        DiskRaftStorage? storage = null;
        for (var step = 0; step < steps; step++)
        {
            try
            {
                storage ??= Reopen(process);
                if (!Step(storage))
                {
                    // A clean restart. Dispose writes what is queued (a commit-only hard state) but reports no
                    // failure, so that counts as acknowledged only once the reopened log shows it.
                    storage.Dispose();
                    storage = null;
                }
            }
            catch (Exception) when (_disk.PoweredOff)
            {
                Abandon(storage);
                return;
            }
            catch (Exception) when (process.Killed)
            {
                Abandon(storage);
                storage = null;
                process = _disk.Start(NextKill());
            }
        }
        Abandon(storage);
    }

    private long? NextKill()
    {
        while (_kills.TryPeek(out var k) && k <= _disk.Operations)
            _kills.Dequeue();
        return _kills.TryDequeue(out var next) ? next : null;
    }

    /// <summary>Opens the log; after a kill, checks it came back in a state it may, which then counts as acknowledged (the process acts on it).</summary>
    private DiskRaftStorage Reopen(SimulatedProcess process)
    {
        var storage = DiskRaftStorage.Open(Options(process));
        var state = Describe(storage);
        Check(state, "after a restart");
        _model = Copy(storage);
        _states.Clear();
        _states.Add(state);
        _acknowledged = 0;
        return storage;
    }

    /// <summary>Throws unless <paramref name="recovered"/> is a state at or after the last acknowledged one.</summary>
    public void Check(string recovered, string when)
    {
        for (var i = _acknowledged; i < _states.Count; i++)
        {
            if (_states[i] == recovered)
                return;
        }
        var older = _states.IndexOf(recovered);
        throw new InvalidOperationException(
            $"{when}: the log came back in a state it may not ({(older >= 0 ? $"state {older}, older than the acknowledged state {_acknowledged}" : "never passed through")}).\n"
            + $"  recovered:    {recovered}\n  acknowledged: {Acknowledged}\n  latest:       {_states[^1]}");
    }

    private static void Abandon(DiskRaftStorage? storage)
    {
        try
        {
            storage?.Dispose();
        }
        catch (Exception e) when (e is IOException or StorageFailedException)
        {
            // The disk or process is gone; so is the storage.
        }
    }

    /// <summary>Runs one step; false when the step is a clean restart, which the caller does.</summary>
    private bool Step(DiskRaftStorage s)
    {
        var roll = _random.Next(100);
        var hs = _model.HardState;
        var term = Math.Max(1, hs.Term);
        if (roll < 45)
        {
            // Appends, sometimes at a new term that overwrites a suffix, with the hard state that goes with them.
            var newTerm = roll < 8 || hs.Term == 0;
            var from = newTerm ? (ulong)_random.NextInt64((long)Math.Max(_model.FirstIndex, hs.Commit + 1), (long)_model.LastIndex + 2) : _model.LastIndex + 1;
            term = newTerm ? term + 1 : term;
            var entries = Entries(from, _random.Next(1, 5), term);
            var last = from + (ulong)entries.Length - 1;
            HardState? next = newTerm
                ? new HardState(term, (ulong)_random.Next(0, 4), hs.Commit)
                : _random.Next(3) == 0 ? hs with { Commit = (ulong)_random.NextInt64((long)hs.Commit, (long)last + 1) } : null;
            Save(s, next, entries);
        }
        else if (roll < 55)
        {
            // A hard state that only moves the commit index: acknowledged at once, durable with the next write.
            if (_model.LastIndex > hs.Commit)
                Save(s, hs with { Commit = (ulong)_random.NextInt64((long)hs.Commit + 1, (long)_model.LastIndex + 1) }, []);
        }
        else if (roll < 68)
        {
            // A group commit: several saves in one batch.
            var tasks = new List<Task>();
            lock (s.GateForTest)
            {
                for (var k = _random.Next(2, 4); k > 0; k--)
                {
                    var entries = Entries(_model.LastIndex + 1, _random.Next(1, 4), term);
                    Expect(null, entries);
                    tasks.Add(s.StartSave(null, entries));
                }
            }
            Task.WaitAll(tasks);
            _acknowledged = _states.Count - 1;
        }
        else if (roll < 80)
        {
            if (_model.LastIndex <= _model.Snapshot.Index)
                return true;
            var index = (ulong)_random.NextInt64((long)_model.Snapshot.Index + 1, (long)_model.LastIndex + 1);
            var data = Bytes(_random.Next(0, 3000));
            // The state is expected before the call: a cut during it may leave it either way.
            _model.CreateSnapshot(index, ConfState.OfVoters(1, 2, 3), data);
            _states.Add(Describe(_model));
            s.CreateSnapshot(index, ConfState.OfVoters(1, 2, 3), data);
            _acknowledged = _states.Count - 1;
        }
        else if (roll < 86)
        {
            // A snapshot received from a leader replaces the log.
            var metadata = new SnapshotMetadata(_model.LastIndex + (ulong)_random.Next(0, 6), term, ConfState.OfVoters(1, 2, (ulong)_random.Next(3, 6)));
            var data = Bytes(_random.Next(0, 3000));
            _model.ApplySnapshot(metadata, data);
            _states.Add(Describe(_model));
            s.ApplySnapshot(metadata, data);
            _acknowledged = _states.Count - 1;
        }
        else if (roll < 89)
        {
            return false;
        }
        else if (roll < 92)
        {
            // A snapshot from a leader, given up half received: nothing changes.
            using var receiver = s.ReceiveSnapshot(new SnapshotMetadata(_model.LastIndex + 1, term, ConfState.OfVoters(1, 2, 3)));
            receiver.Write(Bytes(_random.Next(0, 1500)));
        }
        else
        {
            Save(s, null, Entries(_model.LastIndex + 1, _random.Next(1, 8), term));
        }
        return true;
    }

    private void Save(DiskRaftStorage s, HardState? hs, Entry[] entries)
    {
        var durable = Expect(hs, entries);
        s.Save(hs, entries);
        if (durable)
            _acknowledged = _states.Count - 1;
    }

    /// <summary>Applies a save to the model record by record, as the WAL holds it; true if the save waits for an fsync.</summary>
    private bool Expect(HardState? hs, Entry[] entries)
    {
        var mustSync = false;
        foreach (var e in entries)
        {
            if (e.Index <= _model.Snapshot.Index)
                continue;
            _model.Save(null, [e]);
            _states.Add(Describe(_model));
            mustSync = true;
        }
        if (hs is { } h && h != _model.HardState)
        {
            mustSync |= h.Term != _model.HardState.Term || h.Vote != _model.HardState.Vote;
            _model.Save(h, []);
            _states.Add(Describe(_model));
        }
        return mustSync;
    }

    private Entry[] Entries(ulong from, int count, ulong term) =>
        [.. Enumerable.Range(0, count).Select(i => new Entry(from + (ulong)i, term, Bytes(_random.Next(1, 700))))];

    private byte[] Bytes(int length)
    {
        var b = new byte[length];
        _random.NextBytes(b);
        return b;
    }

    private static MemoryRaftStorage Copy(DiskRaftStorage s)
    {
        var m = new MemoryRaftStorage();
        m.ApplySnapshot(s.Snapshot, s.SnapshotData.ToArray());
        m.Save(s.HardState, Fixtures.All(s).ToArray());
        return m;
    }

    /// <summary>Everything a log holds, as one comparable line.</summary>
    public static string Describe(IRaftLogStore s)
    {
        var sb = new StringBuilder();
        var snap = s.Snapshot;
        sb.Append($"hs {s.HardState.Term}/{s.HardState.Vote}/{s.HardState.Commit}; snapshot {snap.Index}/{snap.Term} ");
        sb.Append($"[{string.Join(",", snap.ConfState.Voters)}] data {Crc32C.Compute(s.SnapshotData.Span):x8}; entries");
        foreach (var e in Fixtures.All(s))
            sb.Append($" {e.Index}:{e.Term}:{Crc32C.Compute(e.Data.Span):x8}");
        return sb.ToString();
    }
}
