using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Backup;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Nodes;

/// <summary>
/// etcd v3 calls to one node at a time, from the host over the bridge: status, put, linearizable get and
/// compare-and-set on <c>mod_revision</c>. One channel per node; every call carries a deadline.
/// </summary>
internal sealed class LabClient : IDisposable
{
    private readonly LabLayout _layout;
    private readonly GrpcChannel[] _channels;

    /// <summary>The lab's TLS (<c>lab up --tls</c>); null for cleartext.</summary>
    private readonly LabTls? _tls;

    /// <summary>Opens channels (lazily connected) to every node of <paramref name="layout"/>.</summary>
    /// <param name="layout">The lab.</param>
    /// <param name="tls">The lab's TLS, when it runs with it: https, with the lab's client certificate.</param>
    public LabClient(LabLayout layout, LabTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _layout = layout;
        _tls = tls;
        _channels = [.. layout.Nodes.Select(n => GrpcChannel.ForAddress(Url(n.ClientUrl), new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(1),
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(2),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(2),
                SslOptions = tls?.ClientOptions() ?? new(),
            },
            DisposeHttpClient = true,
        }))];
    }

    /// <summary>The status of node <paramref name="node"/>, or null when it does not answer in time.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The status or null.</returns>
    public async Task<NodeStatus?> StatusAsync(int node, TimeSpan timeout, CancellationToken cancellation = default)
    {
        try
        {
            var s = await new Maintenance.MaintenanceClient(Channel(node))
                .StatusAsync(new StatusRequest(), Options(timeout, cancellation)).ResponseAsync.ConfigureAwait(false);
            return new NodeStatus(s.Header.MemberId, s.Leader, s.RaftTerm, s.RaftIndex, s.RaftAppliedIndex, s.IsLearner);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>Puts <paramref name="key"/> = <paramref name="value"/> through node <paramref name="node"/>.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The revision of the write.</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public Task<long> PutAsync(int node, string key, string value, TimeSpan timeout, CancellationToken cancellation = default) =>
        PutAsync(node, key, value, timeout, requireLeader: false, cancellation);

    /// <summary>Puts <paramref name="key"/> = <paramref name="value"/> through node <paramref name="node"/>.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="requireLeader">Refused at once by a member without a leader, rather than held until one is elected.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The revision of the write.</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public async Task<long> PutAsync(int node, string key, string value, TimeSpan timeout, bool requireLeader, CancellationToken cancellation = default)
    {
        var response = await new KV.KVClient(Channel(node))
            .PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, Options(timeout, cancellation, requireLeader))
            .ResponseAsync.ConfigureAwait(false);
        return response.Header.Revision;
    }

    /// <summary>A read of <paramref name="key"/> through node <paramref name="node"/>, linearizable unless asked otherwise.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The value (null when absent) and its mod revision (0 when absent).</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    /// <param name="serializable">Read the member's local state instead (etcd's serializable read: may be stale).</param>
    public Task<(string? Value, long ModRevision)> GetAsync(int node, string key, TimeSpan timeout, bool serializable = false, CancellationToken cancellation = default) =>
        GetAsync(node, key, timeout, serializable, requireLeader: false, cancellation);

    /// <summary>A read of <paramref name="key"/> through node <paramref name="node"/>.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="serializable">Read the member's local state instead (etcd's serializable read: may be stale).</param>
    /// <param name="requireLeader">Refused at once by a member without a leader, rather than held until one is elected.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The value (null when absent) and its mod revision (0 when absent).</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public async Task<(string? Value, long ModRevision)> GetAsync(int node, string key, TimeSpan timeout, bool serializable, bool requireLeader, CancellationToken cancellation = default)
    {
        var response = await new KV.KVClient(Channel(node))
            .RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = serializable }, Options(timeout, cancellation, requireLeader))
            .ResponseAsync.ConfigureAwait(false);
        return response.Kvs.Count == 0 ? (null, 0) : (response.Kvs[0].Value.ToStringUtf8(), response.Kvs[0].ModRevision);
    }

    /// <summary>The store's current revision as node <paramref name="node"/> answers a linearizable read.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The revision in the answer's header.</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public async Task<long> RevisionAsync(int node, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var response = await new KV.KVClient(Channel(node))
            .RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("\0"), CountOnly = true }, Options(timeout, cancellation))
            .ResponseAsync.ConfigureAwait(false);
        return response.Header.Revision;
    }

    /// <summary>
    /// Opens a watch stream to node <paramref name="node"/>, with no deadline: it lasts until it breaks or
    /// <paramref name="cancellation"/> fires.
    /// </summary>
    /// <param name="node">The node number.</param>
    /// <param name="requireLeader">Send etcd's require-leader metadata (<c>hasleader: true</c>): the member ends the
    /// stream when it has had no leader for a while, instead of holding it open.</param>
    /// <param name="cancellation">Ends the stream.</param>
    /// <returns>The call.</returns>
    public AsyncDuplexStreamingCall<WatchRequest, WatchResponse> Watch(int node, bool requireLeader, CancellationToken cancellation) =>
        new Kvorum.Etcd.Api.Watch.WatchClient(Channel(node)).Watch(requireLeader ? [new("hasleader", "true")] : null, cancellationToken: cancellation);

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> only if its mod revision is still
    /// <paramref name="modRevision"/> (0: only if absent), as one etcd Txn.
    /// </summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="modRevision">The mod revision the key must have.</param>
    /// <param name="value">The new value.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>True when the compare held and the put was applied.</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public Task<bool> CompareAndSetAsync(int node, string key, long modRevision, string value, TimeSpan timeout, CancellationToken cancellation = default) =>
        CompareAndSetAsync(node, key, modRevision, value, timeout, requireLeader: false, cancellation);

    /// <summary>As <see cref="CompareAndSetAsync(int, string, long, string, TimeSpan, CancellationToken)"/>, optionally refused at once by a member without a leader.</summary>
    /// <param name="node">The node number.</param>
    /// <param name="key">The key.</param>
    /// <param name="modRevision">The mod revision the key must have.</param>
    /// <param name="value">The new value.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="requireLeader">Refused at once by a member without a leader, rather than held until one is elected.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>True when the compare held and the put was applied.</returns>
    public async Task<bool> CompareAndSetAsync(int node, string key, long modRevision, string value, TimeSpan timeout, bool requireLeader, CancellationToken cancellation = default)
    {
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFromUtf8(value) } });
        var response = await new KV.KVClient(Channel(node)).TxnAsync(txn, Options(timeout, cancellation, requireLeader)).ResponseAsync.ConfigureAwait(false);
        return response.Succeeded;
    }

    /// <summary>Adds <paramref name="learner"/> to the cluster as a learner through node <paramref name="node"/> (etcd's <c>member add --learner</c>).</summary>
    /// <param name="node">The node number of a member (the leader, best).</param>
    /// <param name="learner">The member to add, which is not running yet.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The new member's id.</returns>
    /// <exception cref="RpcException">The call failed or timed out.</exception>
    public async Task<ulong> AddLearnerAsync(int node, NodeLayout learner, TimeSpan timeout, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(learner);
        var request = new MemberAddRequest { IsLearner = true };
        request.PeerURLs.Add(Url(learner.PeerUrl).GetLeftPart(UriPartial.Authority));
        var response = await new Cluster.ClusterClient(Channel(node)).MemberAddAsync(request, Options(timeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return response.Member.ID;
    }

    /// <summary>Node <paramref name="node"/>'s hash of its key-value history up to <paramref name="revision"/> (Maintenance.HashKV).</summary>
    /// <param name="node">The node number.</param>
    /// <param name="revision">The revision to hash up to; 0 for the node's current one.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The hash and the revision it covers.</returns>
    /// <exception cref="RpcException">The call failed (a revision the node has not applied yet: OutOfRange).</exception>
    public async Task<(uint Hash, long Revision)> HashKVAsync(int node, long revision, TimeSpan timeout, CancellationToken cancellation = default)
    {
        var response = await new Maintenance.MaintenanceClient(Channel(node))
            .HashKVAsync(new HashKVRequest { Revision = revision }, Options(timeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return (response.Hash, response.HashRevision);
    }

    /// <summary>
    /// Saves node <paramref name="node"/>'s state to <paramref name="path"/> as <c>kvorum snapshot save</c> does
    /// (<see cref="BackupDownload"/>: received into a part file, checked by its SHA-256, fsynced and renamed).
    /// </summary>
    /// <param name="node">The node number.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="timeout">The deadline of the whole save.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The file's size in bytes.</returns>
    /// <exception cref="RpcException">The call failed.</exception>
    /// <exception cref="InvalidDataException">The file received is damaged.</exception>
    public Task<long> SaveSnapshotAsync(int node, string path, TimeSpan timeout, CancellationToken cancellation = default) =>
        BackupDownload.SaveAsync(new Maintenance.MaintenanceClient(Channel(node)), path,
            new BackupDownloadSettings { Deadline = DateTime.UtcNow + timeout }, cancellation);

    /// <summary>True when the call never reached the server (connection refused or not established), so it cannot have taken effect.</summary>
    /// <param name="error">The failure.</param>
    /// <returns>Whether the request was certainly not delivered.</returns>
    public static bool NeverSent(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.StatusCode == StatusCode.Unavailable
            && (error.Status.DebugException is System.Net.Http.HttpRequestException { HttpRequestError: System.Net.Http.HttpRequestError.ConnectionError }
                || error.Status.Detail.StartsWith("Error connecting", StringComparison.Ordinal));
    }

    /// <summary>The channel to node <paramref name="node"/>, for calls this class does not wrap (the lock scenario's lease and lock calls).</summary>
    /// <param name="node">The node number.</param>
    /// <returns>The channel, shared with this client's own calls.</returns>
    internal GrpcChannel Channel(int node) => _channels[_layout.Node(node).Number - 1];

    /// <summary>
    /// A call's options. With <paramref name="requireLeader"/>, etcd's require-leader metadata: a member that knows no
    /// leader refuses the call at once with "no leader" instead of holding it until one is elected.
    /// </summary>
    private static CallOptions Options(TimeSpan timeout, CancellationToken cancellation, bool requireLeader = false) =>
        new(headers: requireLeader ? [new("hasleader", "true")] : null, deadline: DateTime.UtcNow + timeout, cancellationToken: cancellation);

    /// <summary>A node's URL as this lab serves it: https under <c>--tls</c>.</summary>
    private Uri Url(Uri url) => _tls is null ? url : Kvorum.Etcd.Serve.ServeArguments.Https(url);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var channel in _channels)
            channel.Dispose();
    }
}
