using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Kvorum.Lab.Nodes;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// The workload of a scenario: one writer (and optionally one linearizable reader) per node, each calling its
/// node back to back with a deadline, pausing briefly after a failure. Every call is recorded, so a scenario
/// can count what succeeded where and when.
/// </summary>
internal sealed class ClientLoad : IAsyncDisposable
{
    private static readonly TimeSpan FailurePause = TimeSpan.FromMilliseconds(25);
    private readonly LabClient _client;
    private readonly Stopwatch _clock;
    private readonly TimeSpan _timeout;
    private readonly string _prefix;
    private readonly ConcurrentQueue<ClientRecord> _records = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private bool _disposed;

    /// <summary>Starts the loops.</summary>
    /// <param name="client">Calls to the nodes.</param>
    /// <param name="nodes">The nodes to load.</param>
    /// <param name="clock">The scenario's clock.</param>
    /// <param name="timeout">Deadline of each call.</param>
    /// <param name="prefix">Key prefix; keys are <c>{prefix}/n{node}/{seq}</c>.</param>
    /// <param name="reads">Also run a linearizable reader per node.</param>
    public ClientLoad(LabClient client, IEnumerable<int> nodes, Stopwatch clock, TimeSpan timeout, string prefix, bool reads = false)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        _client = client;
        _clock = clock;
        _timeout = timeout;
        _prefix = prefix;
        foreach (var node in nodes)
        {
            _loops.Add(Task.Run(() => WriteLoopAsync(node)));
            if (reads)
                _loops.Add(Task.Run(() => ReadLoopAsync(node)));
        }
    }

    /// <summary>The calls invoked in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    /// <param name="from">Start of the window.</param>
    /// <param name="to">End of the window.</param>
    /// <param name="node">Only calls to this node; all when null.</param>
    /// <param name="writes">Only writes (true), only reads (false), or both (null).</param>
    public IEnumerable<ClientRecord> Invoked(TimeSpan from, TimeSpan to, int? node = null, bool? writes = true) =>
        _records.Where(r => r.Invoked >= from && r.Invoked < to && (node is null || r.Node == node) && (writes is null || r.IsWrite == writes));

    /// <summary>
    /// Waits until at least one call to <paramref name="node"/> invoked at or after <paramref name="from"/> has
    /// completed, so that a window ending now holds a call there: on a loaded host a call's deadline can fire late.
    /// </summary>
    /// <param name="from">Start of the window.</param>
    /// <param name="node">The node.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellation">Cancels the wait.</param>
    /// <returns>Whether such a call completed in time.</returns>
    public async Task<bool> WaitCompletedAsync(TimeSpan from, int node, TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = _clock.Elapsed + timeout;
        while (!Invoked(from, TimeSpan.MaxValue, node).Any())
        {
            if (_clock.Elapsed >= deadline)
                return false;
            await Task.Delay(25, cancellation).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// The share of whole seconds in [<paramref name="from"/>, <paramref name="to"/>) in which at least one write
    /// succeeded (completed), in percent.
    /// </summary>
    /// <param name="from">Start.</param>
    /// <param name="to">End.</param>
    /// <returns>Availability in percent.</returns>
    public double Availability(TimeSpan from, TimeSpan to)
    {
        var windows = (int)Math.Floor((to - from).TotalSeconds);
        if (windows <= 0)
            return 0;
        var good = new HashSet<int>();
        foreach (var r in _records)
        {
            if (r.Ok && r.IsWrite && r.Completed >= from && r.Completed < from + TimeSpan.FromSeconds(windows))
                good.Add((int)((r.Completed - from).TotalSeconds));
        }

        return 100.0 * good.Count / windows;
    }

    /// <summary>Stops the loops and waits for the calls in flight.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private Task WriteLoopAsync(int node)
    {
        long seq = 0;
        return LoopAsync(node, isWrite: true, () =>
        {
            var n = seq++;
            var key = $"{_prefix}/n{node}/{n}";
            return (key, _client.PutAsync(node, key, $"v{n}", _timeout, _stop.Token));
        });
    }

    private Task ReadLoopAsync(int node)
    {
        var key = $"{_prefix}/n{node}/0";
        return LoopAsync(node, isWrite: false, () => (key, _client.GetAsync(node, key, _timeout, cancellation: _stop.Token)));
    }

    // Calls back to back until stopped, recording each call; pauses briefly after a failure.
    private async Task LoopAsync(int node, bool isWrite, Func<(string Key, Task Call)> next)
    {
        while (!_stop.IsCancellationRequested)
        {
            var invoked = _clock.Elapsed;
            var key = "";
            try
            {
                (key, var call) = next();
                await call.ConfigureAwait(false);
                _records.Enqueue(new ClientRecord(node, isWrite, key, invoked, _clock.Elapsed, true, null));
            }
            catch (RpcException e) when (!_stop.IsCancellationRequested)
            {
                _records.Enqueue(new ClientRecord(node, isWrite, key, invoked, _clock.Elapsed, false, e.StatusCode.ToString()));
                await PauseAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task PauseAsync()
    {
        try
        {
            await Task.Delay(FailurePause, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
