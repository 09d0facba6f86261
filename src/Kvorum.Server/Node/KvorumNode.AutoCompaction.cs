using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// etcd's auto-compaction (<c>--auto-compaction-mode</c>, <c>--auto-compaction-retention</c>): every member looks at
/// its revision on a timer (<see cref="AutoCompaction"/>), and the leader proposes the compaction it asks for, through
/// Raft like a client's. It keeps the history, and with it the store's size (<c>--quota-backend-bytes</c>), bounded.
/// </summary>
public sealed partial class KvorumNode
{
    private Task _autoCompacting = Task.CompletedTask;

    /// <summary>The policy the options ask for, or null when auto-compaction is off (a retention of 0, the default).</summary>
    internal static AutoCompaction? AutoCompactionOf(ServerOptions options) => options.AutoCompactionMode switch
    {
        AutoCompactionMode.Periodic when options.AutoCompactionPeriod > TimeSpan.Zero => AutoCompaction.Periodic(options.AutoCompactionPeriod),
        AutoCompactionMode.Revision when options.AutoCompactionRevisions > 0 => AutoCompaction.Revisions(options.AutoCompactionRevisions),
        _ => null,
    };

    private void StartAutoCompaction()
    {
        if (AutoCompactionOf(_options) is not { } policy)
            return;
        var interval = _options.AutoCompactionCheckInterval ?? policy.CheckInterval;
        _autoCompacting = Task.Run(() => RunAutoCompactionAsync(policy, interval, _stop.Token));
    }

    private async Task RunAutoCompactionAsync(AutoCompaction policy, TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        var clock = Stopwatch.StartNew();
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var status = Status;
                var revision = policy.Check(clock.Elapsed, status.Revision);
                if (revision == 0 || status.Role != StateRole.Leader)
                    continue;
                try
                {
                    await ProposeAsync<CompactionResponse>(
                        new InternalRequest { Compaction = new CompactionRequest { Revision = revision } }, stop).ConfigureAwait(false);
                    LogAutoCompacted(_log, revision, policy);
                }
                catch (EtcdException e)
                {
                    // Compacted further already (by a client), or no leader just now: the next check tries a newer revision.
                    LogAutoCompactionFailed(_log, revision, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "auto-compaction ({Policy}): compacted to revision {Revision}")]
    private static partial void LogAutoCompacted(ILogger log, long revision, AutoCompaction policy);

    [LoggerMessage(Level = LogLevel.Information, Message = "auto-compaction to revision {Revision} did not happen: {Reason}")]
    private static partial void LogAutoCompactionFailed(ILogger log, long revision, string reason);
}
