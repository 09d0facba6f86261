using System.Diagnostics;
using Grpc.Core;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// Whether every member holds the same key-value history once the faults are healed: each member's
/// Maintenance.HashKV at one revision, the leader's last. Linearizable answers to the clients do not prove
/// this by themselves: a member that applied an entry the others did not would answer the same until it
/// was asked about that key, or led.
/// </summary>
/// <param name="Revision">The revision every member hashed up to (0 when the leader did not answer).</param>
/// <param name="Hashes">Each member's name and hash, null where it did not answer for that revision in time.</param>
internal sealed record ReplicaAgreement(long Revision, IReadOnlyList<(string Node, uint? Hash)> Hashes)
{
    /// <summary>True when every member answered with the same hash.</summary>
    public bool Agree => Revision > 0 && Hashes.All(h => h.Hash is not null) && Hashes.Select(h => h.Hash).Distinct().Count() == 1;

    /// <summary>Asks the leader for its revision, then every member for its hash at it, asking a member that has not applied it yet again until <paramref name="timeout"/>.</summary>
    /// <param name="lab">The lab, every member running.</param>
    /// <param name="leader">The leader's node number.</param>
    /// <param name="timeout">How long a member may take to apply the revision.</param>
    /// <param name="cancellation">Cancels the wait.</param>
    public static async Task<ReplicaAgreement> MeasureAsync(LabControl lab, int leader, TimeSpan timeout, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var call = TimeSpan.FromSeconds(5);
        long revision;
        try
        {
            revision = (await lab.Client.HashKVAsync(leader, 0, call, cancellation).ConfigureAwait(false)).Revision;
        }
        catch (RpcException)
        {
            return new ReplicaAgreement(0, [.. lab.Layout.Nodes.Select(n => (n.Name, (uint?)null))]);
        }

        var clock = Stopwatch.StartNew();
        async Task<(string Node, uint? Hash)> HashOf(Topology.NodeLayout node)
        {
            while (true)
            {
                try
                {
                    return (node.Name, (await lab.Client.HashKVAsync(node.Number, revision, call, cancellation).ConfigureAwait(false)).Hash);
                }
                catch (RpcException) when (clock.Elapsed < timeout)
                {
                    await Task.Delay(100, cancellation).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    return (node.Name, null);
                }
            }
        }

        return new ReplicaAgreement(revision, await Task.WhenAll(lab.Layout.Nodes.Select(HashOf)).ConfigureAwait(false));
    }

    /// <summary>The report's line.</summary>
    /// <returns>One line, without its end.</returns>
    public string Describe() => Agree
        ? $"replicas: all {Hashes.Count} members hold the same history at revision {Revision} (HashKV {Hashes[0].Hash})"
        : Revision == 0
            ? "replicas: the leader did not answer HashKV"
            : $"replicas DIFFER at revision {Revision}: {string.Join(", ", Hashes.Select(h => $"{h.Node} {(h.Hash is { } x ? x.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no answer")}"))}";
}
