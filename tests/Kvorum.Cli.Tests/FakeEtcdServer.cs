using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kvorum.Cli.Tests;

/// <summary>
/// An in-process etcd stand-in: Kestrel, HTTP/2 cleartext on a free loopback port, hosting a tiny in-memory KV,
/// Maintenance and Cluster. Just enough semantics for the CLI's round trips.
/// </summary>
public sealed class FakeEtcdServer : IAsyncDisposable
{
    public const ulong MemberId = 0x8e9e05c52164694d;
    public const ulong ClusterId = 0xcdf818194e3a8c32;

    private readonly WebApplication _app;

    private FakeEtcdServer(WebApplication app, string endpoint, FakeStore store)
    {
        _app = app;
        Endpoint = endpoint;
        Store = store;
    }

    /// <summary>host:port of the server.</summary>
    public string Endpoint { get; }

    public FakeStore Store { get; }

    public static async Task<FakeEtcdServer> StartAsync()
    {
        var store = new FakeStore();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(store);
        var app = builder.Build();
        app.MapGrpcService<FakeKv>();
        app.MapGrpcService<FakeMaintenance>();
        app.MapGrpcService<FakeCluster>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeEtcdServer(app, new Uri(address).Authority, store);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The fake's state: keys, revision, members.</summary>
public sealed class FakeStore
{
    public Lock Gate { get; } = new();

    /// <summary>When set, puts never answer (until the client gives up).</summary>
    public bool HangPuts { get; set; }

    private int _deadlinesSeen;

    /// <summary>Puts that arrived with a gRPC deadline.</summary>
    public int DeadlinesSeen => Volatile.Read(ref _deadlinesSeen);

    public void SawDeadline() => Interlocked.Increment(ref _deadlinesSeen);

    public SortedDictionary<string, KeyValue> Keys { get; } = new(StringComparer.Ordinal);

    public long Revision { get; private set; } = 1;

    /// <summary>Alarms raised, as etcd keeps them (member and type).</summary>
    public List<AlarmMember> Alarms { get; } = [];

    /// <summary>What HashKV answers as the hash, whatever the revision.</summary>
    public uint Hash { get; set; } = 3_141_592_653;

    /// <summary>The messages Maintenance.Snapshot streams.</summary>
    public List<SnapshotResponse> SnapshotMessages { get; } = [];

    /// <summary>When set, Snapshot goes silent after its messages instead of ending the stream.</summary>
    public bool SnapshotStalls { get; set; }

    public List<Member> Members { get; } =
    [
        new() { ID = FakeEtcdServer.MemberId, Name = "infra1", PeerURLs = { "http://127.0.0.1:2380" }, ClientURLs = { "http://127.0.0.1:2379" } },
    ];

    public ResponseHeader Header() => new() { ClusterId = FakeEtcdServer.ClusterId, MemberId = FakeEtcdServer.MemberId, Revision = Revision, RaftTerm = 2 };

    public IEnumerable<KeyValue> InRange(ByteString key, ByteString end)
    {
        var k = key.ToStringUtf8();
        if (end.IsEmpty)
            return Keys.TryGetValue(k, out var kv) ? [kv] : [];
        var toEnd = end.Length == 1 && end[0] == 0;
        var e = end.ToStringUtf8();
        return Keys.Values.Where(kv => string.CompareOrdinal(kv.Key.ToStringUtf8(), k) >= 0 && (toEnd || string.CompareOrdinal(kv.Key.ToStringUtf8(), e) < 0)).ToList();
    }

    public PutResponse Put(PutRequest request)
    {
        if (request.Key.IsEmpty)
            throw EtcdCall.ToRpcException(EtcdErrors.EmptyKey);
        var key = request.Key.ToStringUtf8();
        Keys.TryGetValue(key, out var previous);
        Revision++;
        Keys[key] = new KeyValue
        {
            Key = request.Key,
            Value = request.Value,
            CreateRevision = previous?.CreateRevision ?? Revision,
            ModRevision = Revision,
            Version = (previous?.Version ?? 0) + 1,
        };
        return new PutResponse { Header = Header(), PrevKv = request.PrevKv ? previous : null };
    }

    public RangeResponse Range(RangeRequest request)
    {
        if (request.Revision > Revision)
            throw EtcdCall.ToRpcException(EtcdErrors.FutureRevision);
        var all = InRange(request.Key, request.RangeEnd).ToList();
        var response = new RangeResponse { Header = Header(), Count = all.Count };
        if (!request.CountOnly)
        {
            var page = request.Limit > 0 ? all.Take((int)request.Limit) : all;
            response.Kvs.AddRange(page.Select(kv => request.KeysOnly ? new KeyValue(kv) { Value = ByteString.Empty } : kv));
            response.More = request.Limit > 0 && all.Count > request.Limit;
        }

        return response;
    }

    public DeleteRangeResponse Delete(DeleteRangeRequest request)
    {
        var doomed = InRange(request.Key, request.RangeEnd).ToList();
        if (doomed.Count > 0)
            Revision++;
        foreach (var kv in doomed)
            Keys.Remove(kv.Key.ToStringUtf8());
        var response = new DeleteRangeResponse { Header = Header(), Deleted = doomed.Count };
        if (request.PrevKv)
            response.PrevKvs.AddRange(doomed);
        return response;
    }

    public bool Holds(Compare compare)
    {
        Keys.TryGetValue(compare.Key.ToStringUtf8(), out var kv);
        var order = compare.Target switch
        {
            Compare.Types.CompareTarget.Value => kv is null ? -1 : string.CompareOrdinal(kv.Value.ToStringUtf8(), compare.Value.ToStringUtf8()),
            Compare.Types.CompareTarget.Version => (kv?.Version ?? 0).CompareTo(compare.Version),
            Compare.Types.CompareTarget.Create => (kv?.CreateRevision ?? 0).CompareTo(compare.CreateRevision),
            Compare.Types.CompareTarget.Mod => (kv?.ModRevision ?? 0).CompareTo(compare.ModRevision),
            _ => (kv?.Lease ?? 0).CompareTo(compare.Lease),
        };
        return compare.Result switch
        {
            Compare.Types.CompareResult.Equal => order == 0,
            Compare.Types.CompareResult.NotEqual => order != 0,
            Compare.Types.CompareResult.Greater => order > 0,
            _ => order < 0,
        };
    }
}

public sealed class FakeKv(FakeStore store) : KV.KVBase
{
    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        if (context.Deadline != DateTime.MaxValue)
            store.SawDeadline();
        if (store.HangPuts)
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
        lock (store.Gate)
            return store.Put(request);
    }

    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        lock (store.Gate)
            return Task.FromResult(store.Range(request));
    }

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context)
    {
        lock (store.Gate)
            return Task.FromResult(store.Delete(request));
    }

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            var succeeded = request.Compare.All(store.Holds);
            var response = new TxnResponse { Succeeded = succeeded };
            foreach (var op in succeeded ? request.Success : request.Failure)
            {
                response.Responses.Add(op.RequestCase switch
                {
                    RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = store.Put(op.RequestPut) },
                    RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = store.Range(op.RequestRange) },
                    _ => new ResponseOp { ResponseDeleteRange = store.Delete(op.RequestDeleteRange) },
                });
            }

            response.Header = store.Header();
            return Task.FromResult(response);
        }
    }

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            if (request.Revision > store.Revision)
                throw EtcdCall.ToRpcException(EtcdErrors.FutureRevision);
            return Task.FromResult(new CompactionResponse { Header = store.Header() });
        }
    }
}

public sealed class FakeMaintenance(FakeStore store) : Maintenance.MaintenanceBase
{
    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            return Task.FromResult(new StatusResponse
            {
                Header = store.Header(),
                Version = "3.6.0",
                DbSize = 24_576,
                Leader = FakeEtcdServer.MemberId,
                RaftTerm = 2,
                RaftIndex = (ulong)store.Revision + 3,
                RaftAppliedIndex = (ulong)store.Revision + 3,
            });
        }
    }

    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            var response = new AlarmResponse { Header = store.Header() };
            switch (request.Action)
            {
                case AlarmRequest.Types.AlarmAction.Get:
                    response.Alarms.AddRange(store.Alarms);
                    break;
                case AlarmRequest.Types.AlarmAction.Deactivate:
                    var removed = store.Alarms.Where(a => a.MemberID == request.MemberID && a.Alarm == request.Alarm).ToList();
                    store.Alarms.RemoveAll(removed.Contains);
                    response.Alarms.AddRange(removed);
                    break;
            }
            return Task.FromResult(response);
        }
    }

    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            if (request.Revision > store.Revision)
                throw EtcdCall.ToRpcException(EtcdErrors.FutureRevision);
            return Task.FromResult(new HashKVResponse
            {
                Header = store.Header(),
                Hash = store.Hash,
                HashRevision = request.Revision == 0 ? store.Revision : request.Revision,
            });
        }
    }

    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context) =>
        request.TargetID == FakeEtcdServer.MemberId
            ? Task.FromResult(new MoveLeaderResponse { Header = store.Header() })
            : throw new RpcException(new Status(StatusCode.FailedPrecondition, EtcdErrors.BadLeaderTransferee.Message));

    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context) =>
        Task.FromResult(new DefragmentResponse { Header = store.Header() });

    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        List<SnapshotResponse> messages;
        bool stalls;
        lock (store.Gate)
        {
            messages = [.. store.SnapshotMessages];
            stalls = store.SnapshotStalls;
        }
        foreach (var message in messages)
            await responseStream.WriteAsync(message, context.CancellationToken);
        if (stalls)
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
    }
}

public sealed class FakeCluster(FakeStore store) : Kvorum.Etcd.Api.Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            var response = new MemberListResponse { Header = store.Header() };
            response.Members.AddRange(store.Members);
            return Task.FromResult(response);
        }
    }

    public override Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            var member = new Member { ID = 0xabc, IsLearner = request.IsLearner };
            member.PeerURLs.AddRange(request.PeerURLs);
            store.Members.Add(member);
            var response = new MemberAddResponse { Header = store.Header(), Member = member };
            response.Members.AddRange(store.Members);
            return Task.FromResult(response);
        }
    }

    public override Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context)
    {
        lock (store.Gate)
        {
            if (store.Members.RemoveAll(m => m.ID == request.ID) == 0)
                throw EtcdCall.ToRpcException(EtcdErrors.MemberNotFound);
            var response = new MemberRemoveResponse { Header = store.Header() };
            response.Members.AddRange(store.Members);
            return Task.FromResult(response);
        }
    }
}
