using Kvorum.Tests.Shared;
using System.Net;
using System.Net.Sockets;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// A real cluster of Kvorum members on loopback, each a full server (Kestrel, gRPC, WAL on disk) run
/// in this process, with free ports and a temporary data directory. Members can be stopped and restarted.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-cluster-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, (Task<int> Run, CancellationTokenSource Stop)> _running = [];

    public LocalCluster(int size, ulong snapshotCount = 10_000, int heartbeatMs = 50, int electionMs = 500)
    {
        var names = Enumerable.Range(1, size).Select(i => $"m{i}").ToArray();
        var peers = names.ToDictionary(n => n, _ => FreePorts.Next());
        var clients = names.ToDictionary(n => n, _ => FreePorts.Next());
        var metrics = names.ToDictionary(n => n, _ => FreePorts.Next());
        var initial = names.ToDictionary(n => n, n => (IReadOnlyList<Uri>)[new Uri($"http://127.0.0.1:{peers[n]}")]);
        foreach (var n in names)
        {
            Options[n] = new ServerOptions
            {
                Name = n,
                DataDir = Path.Combine(_root, n),
                ListenClientUrls = [new Uri($"http://127.0.0.1:{clients[n]}")],
                AdvertiseClientUrls = [new Uri($"http://127.0.0.1:{clients[n]}")],
                ListenPeerUrls = [new Uri($"http://127.0.0.1:{peers[n]}")],
                InitialAdvertisePeerUrls = [new Uri($"http://127.0.0.1:{peers[n]}")],
                InitialCluster = initial,
                InitialClusterToken = "test-" + Guid.NewGuid().ToString("N"),
                HeartbeatIntervalMs = heartbeatMs,
                ElectionTimeoutMs = electionMs,
                SnapshotCount = snapshotCount,
                SnapshotCatchUpEntries = snapshotCount / 2,
                ListenMetricsUrls = [new Uri($"http://127.0.0.1:{metrics[n]}")],
                // Tests add members as soon as there is a leader; the strict check would refuse them for 5 s
                // (StrictReconfigCheckProcessTests tests it).
                StrictReconfigCheck = false,
            };
        }
        var token = Options[names[0]].InitialClusterToken;
        foreach (var n in names)
            Options[n] = Options[n] with { InitialClusterToken = token };
    }

    public Dictionary<string, ServerOptions> Options { get; } = [];

    public IEnumerable<string> Names => Options.Keys;

    public string ClientUrl(string name) => Options[name].AdvertiseClientUrls[0].ToString().TrimEnd('/');

    public string MetricsUrl(string name) => Options[name].ListenMetricsUrls[0].ToString().TrimEnd('/');

    public string Endpoints => string.Join(",", Options.Keys.Select(ClientUrl));

    public void Start(string name)
    {
        Directory.CreateDirectory(Options[name].DataDir);
        var stop = new CancellationTokenSource();
        _running[name] = (Task.Run(() => KvorumServer.RunAsync(Options[name], stop.Token)), stop);
    }

    /// <summary>
    /// A dotnet-etcd client on every member, once a put through it succeeds (within 30 s of starting). When none does,
    /// the failure says how each member's run ended, if it did: a member that could not start fails its task, and
    /// nothing else would show why.
    /// </summary>
    public async Task<dotnet_etcd.EtcdClient> ConnectAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var client = new dotnet_etcd.EtcdClient(Endpoints);
            try
            {
                await client.PutAsync("__ready", "1");
                return client;
            }
            catch (Grpc.Core.RpcException e)
            {
                client.Dispose();
                if (DateTime.UtcNow >= deadline)
                    throw new InvalidOperationException($"no put succeeded within 30 s; members: {RunStates()}", e);
                await Task.Delay(100);
            }
        }
    }

    private string RunStates() => string.Join("; ", _running.Select(r => $"{r.Key} {(r.Value.Run.IsCompleted ? r.Value.Run.Exception?.GetBaseException().ToString() ?? $"ended with {r.Value.Run.Result}" : "running")}"));

    /// <summary>
    /// Defines member <paramref name="name"/>, which joins the cluster (<c>--initial-cluster-state existing</c>) as it
    /// is now; add it with MemberAdd first, then <see cref="Start"/> it. Returns its peer URL.
    /// </summary>
    public Uri DefineJoining(string name)
    {
        var template = Options.Values.First();
        var peer = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var client = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var initial = Options.ToDictionary(o => o.Key, o => o.Value.InitialAdvertisePeerUrls);
        initial[name] = [peer];
        Options[name] = template with
        {
            Name = name,
            DataDir = Path.Combine(_root, name),
            ListenClientUrls = [client],
            AdvertiseClientUrls = [client],
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = initial,
            InitialClusterState = InitialClusterState.Existing,
            ListenMetricsUrls = [new Uri($"http://127.0.0.1:{FreePorts.Next()}")],
        };
        return peer;
    }

    public void StartAll()
    {
        foreach (var n in Names)
            Start(n);
    }

    public async Task StopAsync(string name)
    {
        if (_running.Remove(name, out var r))
        {
            await r.Stop.CancelAsync();
            await r.Run;
            r.Stop.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var n in _running.Keys.ToList())
            await StopAsync(n);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// One line per member for a failed test: whether it still runs (or its exit code, e.g. 1 when its port was
    /// taken) and what its Status answers (leader, term, raft index), or why it did not answer.
    /// </summary>
    public async Task<string> DescribeAsync()
    {
        var lines = new List<string>();
        foreach (var name in Names)
        {
            var state = !_running.TryGetValue(name, out var r) ? "stopped"
                : r.Run.IsCompleted ? $"exited ({(r.Run.IsCompletedSuccessfully ? r.Run.Result.ToString(System.Globalization.CultureInfo.InvariantCulture) : r.Run.Exception?.GetBaseException().Message)})"
                : "running";
            string status;
            try
            {
                using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(ClientUrl(name));
                var s = await new Kvorum.Etcd.Api.Maintenance.MaintenanceClient(channel).StatusAsync(new Kvorum.Etcd.Api.StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                status = $"leader {s.Leader:x} term {s.RaftTerm} index {s.RaftIndex}";
            }
            catch (Grpc.Core.RpcException e)
            {
                status = $"no status ({e.StatusCode}: {e.Status.Detail})";
            }
            lines.Add($"{name} ({ClientUrl(name)}, peer {Options[name].ListenPeerUrls[0]}): {state}, {status}");
        }
        return string.Join("; ", lines);
    }
}
