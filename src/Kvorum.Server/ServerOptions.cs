namespace Kvorum.Server;

/// <summary>Whether this member starts a new cluster or joins an existing one (etcd's <c>--initial-cluster-state</c>).</summary>
internal enum InitialClusterState
{
    /// <summary>All members in <see cref="ServerOptions.InitialCluster"/> start together and bootstrap the cluster.</summary>
    New,

    /// <summary>The member was added with MemberAdd and joins a running cluster.</summary>
    Existing,
}

/// <summary>Settings of one <c>kvorum serve</c> process; the names follow etcd's flags.</summary>
internal sealed record ServerOptions
{
    /// <summary>Human-readable member name (<c>--name</c>), the key into <see cref="InitialCluster"/>.</summary>
    public string Name { get; init; } = "default";

    /// <summary>Data directory (<c>--data-dir</c>): WAL and snapshots.</summary>
    public string DataDir { get; init; } = "default.kvorum";

    /// <summary>URLs to serve clients on (<c>--listen-client-urls</c>), HTTP/2, over TLS for https URLs.</summary>
    public IReadOnlyList<Uri> ListenClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    /// <summary>Client URLs announced to the cluster (<c>--advertise-client-urls</c>).</summary>
    public IReadOnlyList<Uri> AdvertiseClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    /// <summary>URLs to serve peers on (<c>--listen-peer-urls</c>).</summary>
    public IReadOnlyList<Uri> ListenPeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>Peer URLs announced to the cluster (<c>--initial-advertise-peer-urls</c>).</summary>
    public IReadOnlyList<Uri> InitialAdvertisePeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>Initial members, name → peer URLs (<c>--initial-cluster name=url,...</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Uri>> InitialCluster { get; init; } =
        new Dictionary<string, IReadOnlyList<Uri>> { ["default"] = [new("http://127.0.0.1:2380")] };

    /// <summary><c>--initial-cluster-state</c>.</summary>
    public InitialClusterState InitialClusterState { get; init; } = InitialClusterState.New;

    /// <summary><c>--initial-cluster-token</c>: distinguishes clusters built from the same URLs.</summary>
    public string InitialClusterToken { get; init; } = "kvorum-cluster";

    /// <summary>Heartbeat interval in milliseconds (<c>--heartbeat-interval</c>): one Raft tick.</summary>
    public int HeartbeatIntervalMs { get; init; } = 100;

    /// <summary>Election timeout in milliseconds (<c>--election-timeout</c>); a whole number of heartbeats.</summary>
    public int ElectionTimeoutMs { get; init; } = 1000;

    /// <summary>
    /// Whether the leader checkpoints leases that no one renews, so that a new leader restarts them from what they
    /// had left rather than from their whole TTL (etcd's <c>--experimental-enable-lease-checkpoint</c>; on by default here).
    /// </summary>
    public bool LeaseCheckpoints { get; init; } = true;

    /// <summary>
    /// Whether a member refuses, at once, membership changes that could cost the cluster its quorum (etcd's
    /// <c>--strict-reconfig-check</c>, on by default): <see cref="Node.StrictReconfigCheck"/>.
    /// </summary>
    public bool StrictReconfigCheck { get; init; } = true;

    /// <summary>
    /// Applied entries between snapshots, at least (<c>--snapshot-count</c>); a large state also waits until the
    /// log since its last snapshot is half of that snapshot's size (<c>SnapshotSchedule.LogShare</c>).
    /// </summary>
    public ulong SnapshotCount { get; init; } = 10_000;

    /// <summary>
    /// Entries the log keeps behind a snapshot (<c>--experimental-snapshot-catchup-entries</c>, etcd's name and default),
    /// so that a follower a little behind (a dropped stream, a restart, a short partition) catches up from the log
    /// instead of being sent the whole state: a snapshot is made current, and the log compacted to it, only once this
    /// many entries have been applied after it. 0 compacts at once.
    /// </summary>
    public ulong SnapshotCatchUpEntries { get; init; } = 5_000;

    /// <summary>
    /// A follower starts a gen0 collection every this many applied entries, shifted by its rank, so that two
    /// followers do not pause together (<c>Node/GcStagger.cs</c>); 0 leaves collections to the runtime.
    /// </summary>
    public int GcStaggerEntries { get; init; } = 4096;

    /// <summary>
    /// The leader starts a gen0 collection once it has allocated this many bytes since the last one, for shorter
    /// pauses (<c>Node/LeaderGcBudget.cs</c>); 0 leaves the leader's collections to the runtime.
    /// </summary>
    public long LeaderGcBudgetBytes { get; init; } = 4 << 20;

    /// <summary>etcd's default backend quota, 2 GiB.</summary>
    public const long DefaultQuotaBackendBytes = 2L << 30;

    /// <summary>
    /// The store size (<see cref="Mvcc.MvccStore.SizeBytes"/>) past which writes are refused and the NOSPACE alarm
    /// is raised (<c>--quota-backend-bytes</c>); <see cref="long.MaxValue"/> for no quota.
    /// </summary>
    public long QuotaBackendBytes { get; init; } = DefaultQuotaBackendBytes;

    /// <summary>How the auto-compaction retention is read (<c>--auto-compaction-mode</c>, default periodic).</summary>
    public Node.AutoCompactionMode AutoCompactionMode { get; init; } = Node.AutoCompactionMode.Periodic;

    /// <summary>Periodic auto-compaction keeps this much history (<c>--auto-compaction-retention</c>); zero: off.</summary>
    public TimeSpan AutoCompactionPeriod { get; init; }

    /// <summary>Revision auto-compaction keeps this many revisions (<c>--auto-compaction-retention</c>); 0: off.</summary>
    public long AutoCompactionRevisions { get; init; }

    /// <summary>How often auto-compaction checks, instead of what the mode implies (for tests); null: the mode's.</summary>
    public TimeSpan? AutoCompactionCheckInterval { get; init; }

    /// <summary>Largest client request in bytes (<c>--max-request-bytes</c>, etcd's default 1.5 MiB).</summary>
    public int MaxRequestBytes { get; init; } = 1536 * 1024;

    /// <summary>
    /// How often synced progress_notify watchers get an empty response with the revision
    /// (<c>--experimental-watch-progress-notify-interval</c>): 10 minutes by default, as etcd's, and at least 100 ms.
    /// </summary>
    public TimeSpan WatchProgressNotifyInterval
    {
        get;
        init => field = value < MinWatchProgressNotifyInterval ? MinWatchProgressNotifyInterval : value;
    } = TimeSpan.FromMinutes(10);

    /// <summary>The shortest progress interval; a shorter one is raised to it, as etcd does.</summary>
    public static readonly TimeSpan MinWatchProgressNotifyInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>URLs for <c>/metrics</c> and <c>/health</c> over HTTP/1.1 (<c>--listen-metrics-urls</c>); may be empty.</summary>
    public IReadOnlyList<Uri> ListenMetricsUrls { get; init; } = [];

    /// <summary>Run PreVote before elections (thesis §9.6).</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// Draw election timeouts at random (paper §5.2). Off only in the lab's split-vote scenario, which shows what goes
    /// wrong without it.
    /// </summary>
    public bool RandomizedElectionTimeout { get; init; } = true;

    /// <summary>
    /// The lab only: a file where the lab writes this member's fault state (one line, empty when none); the member
    /// publishes it in its event stream. Null outside the lab.
    /// </summary>
    public string? LabStateFile { get; init; }

    // Transport security (docs/security.md).

    /// <summary>TLS of the client port and of https metrics URLs (<c>--cert-file</c>, <c>--client-cert-auth</c>, ...).</summary>
    public Security.TlsSettings ClientTls { get; init; } = Security.TlsSettings.None;

    /// <summary>TLS of the peer port and of the connections to peers (<c>--peer-cert-file</c>, <c>--peer-client-cert-auth</c>, ...).</summary>
    public Security.TlsSettings PeerTls { get; init; } = Security.TlsSettings.None;

    // Users and roles (Auth/).

    /// <summary>
    /// The kind of auth token and its options (<c>--auth-token</c>, see <c>Auth/AuthTokenOptions.cs</c>): etcd's default,
    /// <c>simple</c> (random strings the members remember), or <c>jwt,priv-key=...,sign-method=...</c> (signed tokens).
    /// </summary>
    public string AuthToken { get; init; } = "simple";

    /// <summary>How long a simple token lives without use (<c>--auth-token-ttl</c>, etcd's default 300 s).</summary>
    public TimeSpan AuthTokenTtl { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// The bcrypt cost of users' password hashes (<c>--bcrypt-cost</c>, etcd's default 10, from 4 to 31): each step
    /// doubles the time a login and a guess take.
    /// </summary>
    public int BcryptCost { get; init; } = Auth.PasswordHashing.DefaultCost;

    // Unread answers (Http2/UnreadAnswerBudget.cs).

    /// <summary>
    /// Bytes of large read answers that may wait for their clients to read them, across all clients
    /// (<c>--experimental-max-unread-response-bytes</c>).
    /// </summary>
    public long MaxUnreadResponseBytes { get; init; } = Http2.UnreadAnswerBudget.DefaultBytes;
}
