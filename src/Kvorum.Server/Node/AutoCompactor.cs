using System.Diagnostics;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// etcd's auto-compaction (<c>--auto-compaction-mode</c>, <c>--auto-compaction-retention</c>) on one member: it looks at
/// the member's revision on a timer, asks its <see cref="AutoCompaction"/> policy, and when the member leads proposes
/// the compaction the policy asks for, through Raft like a client's. It keeps the history, and with it the store's size
/// (<c>--quota-backend-bytes</c>), bounded.
/// </summary>
/// <remarks>Runs on the thread pool, apart from the member loop: it reads the published status and proposes like a client.</remarks>
internal sealed partial class AutoCompactor
{
    private readonly AutoCompaction _policy;
    private readonly Func<NodeStatus> _status;
    private readonly Func<long, CancellationToken, Task> _compact;
    private readonly ILogger _log;

    /// <summary>Creates the compactor of one member.</summary>
    /// <param name="policy">When to compact, and to which revision.</param>
    /// <param name="status">The member's status as last published.</param>
    /// <param name="compact">Proposes a compaction to this revision and waits until it is applied.</param>
    /// <param name="log">Where compactions, and those that did not happen, are told.</param>
    public AutoCompactor(AutoCompaction policy, Func<NodeStatus> status, Func<long, CancellationToken, Task> compact, ILogger log)
    {
        _policy = policy;
        _status = status;
        _compact = compact;
        _log = log;
    }

    /// <summary>The policy the options ask for, or null when auto-compaction is off (a retention of 0, the default).</summary>
    public static AutoCompaction? PolicyOf(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AutoCompactionMode switch
        {
            AutoCompactionMode.Periodic when options.AutoCompactionPeriod > TimeSpan.Zero => AutoCompaction.Periodic(options.AutoCompactionPeriod),
            AutoCompactionMode.Revision when options.AutoCompactionRevisions > 0 => AutoCompaction.Revisions(options.AutoCompactionRevisions),
            _ => null,
        };
    }

    /// <summary>Checks every <paramref name="interval"/> until <paramref name="stop"/> (<see cref="CheckAsync"/>).</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        var clock = Stopwatch.StartNew();
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                await CheckAsync(clock.Elapsed, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One check, at <paramref name="now"/> since the compactor started: the policy sees the member's revision, and if
    /// it answers a revision and the member leads, the compaction is proposed. Returns the revision compacted to, or 0.
    /// </summary>
    public async Task<long> CheckAsync(TimeSpan now, CancellationToken stop)
    {
        var status = _status();
        var revision = _policy.Check(now, status.Revision);
        if (revision == 0 || status.Role != StateRole.Leader)
            return 0;
        try
        {
            await _compact(revision, stop).ConfigureAwait(false);
            LogAutoCompacted(_log, revision, _policy);
            return revision;
        }
        catch (EtcdException e)
        {
            // Compacted further already (by a client), or no leader just now: the next check tries a newer revision.
            LogAutoCompactionFailed(_log, revision, e.Message);
            return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "auto-compaction ({Policy}): compacted to revision {Revision}")]
    private static partial void LogAutoCompacted(ILogger log, long revision, AutoCompaction policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "auto-compaction to revision {Revision} did not happen: {Reason}")]
    private static partial void LogAutoCompactionFailed(ILogger log, long revision, string reason);
}
