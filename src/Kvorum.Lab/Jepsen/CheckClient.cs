using Grpc.Core;
using Kvorum.Etcd.Errors;
using Kvorum.Lab.Checking;
using Kvorum.Lab.Nodes;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// One client of the check: picks a member, a key and an operation at random — linearizable get, put of a
/// unique value, or compare-and-set against the mod revision it last read — and records the outcome. A put or
/// CAS whose answer never came is indeterminate (it may take effect later, or never), and the client goes on
/// as a new process, as in Jepsen; a get that failed changed nothing and is recorded as failed.
/// </summary>
/// <param name="client">Calls to the members.</param>
/// <param name="recorder">The history.</param>
/// <param name="process">The first process id of this client.</param>
/// <param name="processStride">Added to the process id after each indeterminate operation.</param>
/// <param name="nodes">The members it sends to, 1..nodes: the voters (the check's clients leave learners alone).</param>
/// <param name="keys">Key count.</param>
/// <param name="keyLifetime">How long a key is used before a fresh one takes its place.</param>
/// <param name="timeout">Deadline per operation.</param>
/// <param name="random">This client's generator.</param>
/// <param name="serializable">Read the member's local state (may be stale) instead of linearizably.</param>
internal sealed class CheckClient(LabClient client, HistoryRecorder recorder, int process, int processStride, int nodes, int keys, TimeSpan keyLifetime, TimeSpan timeout, Random random, bool serializable = false)
{
    // Calls carry etcd's require-leader metadata: a member without a leader refuses them at once ("no leader", a
    // definite failure) instead of holding them until one is elected, which would end many as indeterminate.
    // Like etcd's own client balancer, a client that got no answer from a member tries the others for a
    // while: fewer operations pile up as indeterminate on a paused or cut-off member, which keeps each
    // key's history checkable.
    private static readonly long SuspectMicros = 2_000_000;
    private readonly Dictionary<int, long> _suspectUntil = [];
    private readonly Dictionary<string, (string? Value, long ModRevision)> _lastRead = [];
    private long _sequence;

    /// <summary>Runs operations back to back until <paramref name="stop"/> fires.</summary>
    /// <param name="stop">Ends the loop after the operation in flight.</param>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            (var node, var healthy) = PickNode();
            // Every member failed it lately (all down, as a lone member is while killed): a short pause, so that it does
            // not fill the history with refused calls, but short enough to meet a member as soon as it is back.
            if (!healthy)
                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
            // Key slot k lives as k.0, k.1, ...: a fresh key every keyLifetime.
            var epoch = recorder.Now / (long)keyLifetime.TotalMicroseconds;
            var key = $"k{random.Next(keys)}.{epoch}";
            var dice = random.Next(10);
            if (dice < 4)
                await GetAsync(node, key).ConfigureAwait(false);
            else if (dice < 7)
                await PutAsync(node, key).ConfigureAwait(false);
            else
                await CasAsync(node, key).ConfigureAwait(false);
        }
    }

    /// <summary>A linearizable get recorded in the history (the final reads use it too).</summary>
    /// <param name="node">The member.</param>
    /// <param name="key">The key.</param>
    /// <returns>The value read, or null when it failed.</returns>
    public async Task<(bool Ok, string? Value)> GetAsync(int node, string key)
    {
        var id = recorder.NextId();
        var invoked = recorder.Now;
        try
        {
            var (value, modRevision) = await client.GetAsync(node, key, timeout, serializable, requireLeader: true).ConfigureAwait(false);
            recorder.Add(Operation.Ok(id, process, KvInput.Get(key), invoked, recorder.Now, KvOutput.Read(value)));
            _lastRead[key] = (value, modRevision);
            return (true, value);
        }
        catch (RpcException)
        {
            recorder.Add(Operation.Failed(id, process, KvInput.Get(key), invoked, recorder.Now));
            Suspect(node);
            return (false, null);
        }
    }

    private async Task PutAsync(int node, string key)
    {
        var value = NextValue();
        var id = recorder.NextId();
        var invoked = recorder.Now;
        try
        {
            await client.PutAsync(node, key, value, timeout, requireLeader: true).ConfigureAwait(false);
            recorder.Add(Operation.Ok(id, process, KvInput.Put(key, value), invoked, recorder.Now, KvOutput.Written));
        }
        catch (RpcException e)
        {
            Unanswered(node, id, KvInput.Put(key, value), invoked, e);
        }
    }

    private async Task CasAsync(int node, string key)
    {
        (var expected, var modRevision) = _lastRead.GetValueOrDefault(key, (null, 0));
        var value = NextValue();
        var input = KvInput.Cas(key, expected, value);
        var id = recorder.NextId();
        var invoked = recorder.Now;
        try
        {
            // Values are unique, so "mod revision unchanged" is "value still the one read" (0: still absent).
            var swapped = await client.CompareAndSetAsync(node, key, modRevision, value, timeout, requireLeader: true).ConfigureAwait(false);
            recorder.Add(Operation.Ok(id, process, input, invoked, recorder.Now, KvOutput.Swapped(swapped)));
        }
        catch (RpcException e)
        {
            Unanswered(node, id, input, invoked, e);
        }
    }

    private void Unanswered(int node, long id, KvInput input, long invoked, RpcException error)
    {
        Suspect(node);
        if (LabClient.NeverSent(error) || Rejected(error))
        {
            recorder.Add(Operation.Failed(id, process, input, invoked, recorder.Now));
            return;
        }

        recorder.Add(Operation.Indeterminate(id, process, input, invoked, recorder.Now));
        process += processStride;
    }

    private string NextValue() => $"p{process}-{++_sequence}";

    private (int Node, bool Healthy) PickNode()
    {
        var now = recorder.Now;
        int[] healthy = [.. Enumerable.Range(1, nodes).Where(n => _suspectUntil.GetValueOrDefault(n) <= now)];
        return healthy.Length > 0 ? (healthy[random.Next(healthy.Length)], true) : (random.Next(1, nodes + 1), false);
    }

    private void Suspect(int node) => _suspectUntil[node] = recorder.Now + SuspectMicros;

    /// <summary>
    /// True when the server refused the request before proposing it: Kvorum answers "no leader" and
    /// "leader changed" only when the Raft core rejected the proposal, so it cannot take effect later.
    /// </summary>
    private static bool Rejected(RpcException error) =>
        EtcdErrors.NoLeader.Matches(error) || EtcdErrors.LeaderChanged.Matches(error);
}
