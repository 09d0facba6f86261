namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// Agreement checked while the run goes on, not only at its end: the state machine is deterministic, so the revision
/// after applying the log up to index i is one number, the same on every member, and it never decreases as i grows.
/// This samples every running member's published status (applied index and revision, which the loop publishes
/// together) every millisecond or so, and reports any two samples, of any members, that no such function fits.
/// A member whose state does not match its applied index (a snapshot's contents installed under another snapshot's
/// index) shows up here as soon as it is sampled, even if a later snapshot repairs it before the end of the run.
/// </summary>
internal sealed class AppliedStateMonitor(ChaosCluster cluster) : IDisposable
{
    // Applied index → the revision first seen at it, and by whom. Sampler thread only until Stop.
    private readonly Dictionary<ulong, (long Revision, string Member)> _seen = [];
    private readonly List<string> _conflicts = [];
    private readonly HashSet<ulong> _reported = [];
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public void Start()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "agreement-monitor" };
        _thread.Start();
    }

    /// <summary>Stops sampling and returns every disagreement seen: at one applied index, or between two.</summary>
    public IReadOnlyList<string> Stop()
    {
        _stop.Cancel();
        _thread?.Join();
        var conflicts = new List<string>(_conflicts);
        (ulong Applied, long Revision, string Member) highest = (0, 0, "");
        var backwards = 0;
        foreach (var (applied, (revision, member)) in _seen.OrderBy(p => p.Key))
        {
            if (revision < highest.Revision)
            {
                if (++backwards > 10)
                    continue;
                conflicts.Add($"{member} had applied to index {applied} at revision {revision}, "
                    + $"but {highest.Member} had applied only to index {highest.Applied} at revision {highest.Revision}");
            }
            else
            {
                highest = (applied, revision, member);
            }
        }
        if (backwards > 10)
            conflicts.Add($"... and {backwards - 10} more applied indexes at a revision below one seen at a lower index");
        return conflicts;
    }

    /// <summary>Applied indexes sampled.</summary>
    public int Samples => _seen.Count;

    private void Sample()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var m in cluster.Members)
            {
                if (m.Node is not { } node)
                    continue;
                var status = node.Status;
                if (status.Applied == 0)
                    continue; // not loaded yet
                if (!_seen.TryGetValue(status.Applied, out var first))
                    _seen[status.Applied] = (status.Revision, m.Name);
                else if (first.Revision != status.Revision && _conflicts.Count < 10 && _reported.Add(status.Applied))
                    _conflicts.Add($"at applied index {status.Applied}, {first.Member} was at revision {first.Revision} and {m.Name} at {status.Revision}");
            }
            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
            Stop();
        _stop.Dispose();
    }
}
