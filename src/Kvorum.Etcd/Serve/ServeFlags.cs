namespace Kvorum.Etcd.Serve;

/// <summary>
/// The flags of <c>kvorum serve</c>, named as etcd names them, and their environment variables: what <c>serve</c>
/// declares and reads, and what <see cref="ServeArguments"/> writes for the members that <c>cluster up</c>, the lab and
/// the process tests start.
/// </summary>
internal static class ServeFlags
{
    /// <summary><c>--name</c>.</summary>
    public const string Name = "--name";

    /// <summary><c>--data-dir</c>.</summary>
    public const string DataDir = "--data-dir";

    /// <summary><c>--listen-client-urls</c>.</summary>
    public const string ListenClientUrls = "--listen-client-urls";

    /// <summary><c>--advertise-client-urls</c>.</summary>
    public const string AdvertiseClientUrls = "--advertise-client-urls";

    /// <summary><c>--listen-peer-urls</c>.</summary>
    public const string ListenPeerUrls = "--listen-peer-urls";

    /// <summary><c>--initial-advertise-peer-urls</c>.</summary>
    public const string InitialAdvertisePeerUrls = "--initial-advertise-peer-urls";

    /// <summary><c>--initial-cluster</c>.</summary>
    public const string InitialCluster = "--initial-cluster";

    /// <summary><c>--initial-cluster-state</c>.</summary>
    public const string InitialClusterState = "--initial-cluster-state";

    /// <summary><c>--initial-cluster-token</c>.</summary>
    public const string InitialClusterToken = "--initial-cluster-token";

    /// <summary><c>--heartbeat-interval</c>.</summary>
    public const string HeartbeatInterval = "--heartbeat-interval";

    /// <summary><c>--election-timeout</c>.</summary>
    public const string ElectionTimeout = "--election-timeout";

    /// <summary><c>--snapshot-count</c>.</summary>
    public const string SnapshotCount = "--snapshot-count";

    /// <summary><c>--experimental-snapshot-catchup-entries</c>.</summary>
    public const string SnapshotCatchUpEntries = "--experimental-snapshot-catchup-entries";

    /// <summary><c>--max-request-bytes</c>.</summary>
    public const string MaxRequestBytes = "--max-request-bytes";

    /// <summary><c>--quota-backend-bytes</c>.</summary>
    public const string QuotaBackendBytes = "--quota-backend-bytes";

    /// <summary><c>--auto-compaction-mode</c>.</summary>
    public const string AutoCompactionMode = "--auto-compaction-mode";

    /// <summary><c>--auto-compaction-retention</c>.</summary>
    public const string AutoCompactionRetention = "--auto-compaction-retention";

    /// <summary><c>--listen-metrics-urls</c>.</summary>
    public const string ListenMetricsUrls = "--listen-metrics-urls";

    /// <summary><c>--pre-vote</c>.</summary>
    public const string PreVote = "--pre-vote";

    /// <summary><c>--experimental-watch-progress-notify-interval</c>.</summary>
    public const string WatchProgressNotifyInterval = "--experimental-watch-progress-notify-interval";

    /// <summary><c>--experimental-enable-lease-checkpoint</c> (on by default here, off in etcd).</summary>
    public const string EnableLeaseCheckpoint = "--experimental-enable-lease-checkpoint";

    /// <summary><c>--strict-reconfig-check</c>.</summary>
    public const string StrictReconfigCheck = "--strict-reconfig-check";

    // ---- scenarios (lab): election-timeout randomization ----

    /// <summary><c>--experimental-randomized-election-timeout</c>: false only for the lab's split-vote scenario.</summary>
    public const string RandomizedElectionTimeout = "--experimental-randomized-election-timeout";

    // ---- end scenarios ----

    // ---- lab view (issue 22): the member publishes its lab fault state ----

    /// <summary><c>--experimental-lab-state-file</c>: where the lab writes this member's fault state, which it publishes.</summary>
    public const string LabStateFile = "--experimental-lab-state-file";

    // ---- end lab view ----

    // Transport security (docs/security.md).

    /// <summary><c>--cert-file</c>.</summary>
    public const string CertFile = "--cert-file";

    /// <summary><c>--key-file</c>.</summary>
    public const string KeyFile = "--key-file";

    /// <summary><c>--trusted-ca-file</c>.</summary>
    public const string TrustedCaFile = "--trusted-ca-file";

    /// <summary><c>--client-cert-auth</c>.</summary>
    public const string ClientCertAuth = "--client-cert-auth";

    /// <summary><c>--auto-tls</c>.</summary>
    public const string AutoTls = "--auto-tls";

    /// <summary><c>--client-crl-file</c>.</summary>
    public const string ClientCrlFile = "--client-crl-file";

    /// <summary><c>--cipher-suites</c>.</summary>
    public const string CipherSuites = "--cipher-suites";

    /// <summary><c>--peer-cert-file</c>.</summary>
    public const string PeerCertFile = "--peer-cert-file";

    /// <summary><c>--peer-key-file</c>.</summary>
    public const string PeerKeyFile = "--peer-key-file";

    /// <summary><c>--peer-trusted-ca-file</c>.</summary>
    public const string PeerTrustedCaFile = "--peer-trusted-ca-file";

    /// <summary><c>--peer-client-cert-auth</c>.</summary>
    public const string PeerClientCertAuth = "--peer-client-cert-auth";

    /// <summary><c>--peer-auto-tls</c>.</summary>
    public const string PeerAutoTls = "--peer-auto-tls";

    /// <summary><c>--peer-cert-allowed-cn</c>.</summary>
    public const string PeerCertAllowedCn = "--peer-cert-allowed-cn";

    /// <summary><c>--peer-crl-file</c>.</summary>
    public const string PeerCrlFile = "--peer-crl-file";

    /// <summary>The flags that are true when given bare (<c>--client-cert-auth</c>), as etcd's boolean flags.</summary>
    public static IReadOnlySet<string> Booleans { get; } = new HashSet<string>(StringComparer.Ordinal) { PreVote, StrictReconfigCheck, ClientCertAuth, AutoTls, PeerClientCertAuth, PeerAutoTls };

    // Users and roles (the auth helper's block).

    /// <summary><c>--auth-token</c>.</summary>
    public const string AuthToken = "--auth-token";

    /// <summary><c>--auth-token-ttl</c>.</summary>
    public const string AuthTokenTtl = "--auth-token-ttl";

    /// <summary><c>--bcrypt-cost</c>.</summary>
    public const string BcryptCost = "--bcrypt-cost";

    // Unread answers (Kvorum.Server/Http2/UnreadAnswerBudget.cs).

    /// <summary><c>--experimental-max-unread-response-bytes</c>.</summary>
    public const string MaxUnreadResponseBytes = "--experimental-max-unread-response-bytes";

    /// <summary>Every flag with its help text.</summary>
    public static IReadOnlyList<(string Flag, string Description)> All { get; } =
    [
        (Name, "Human-readable name of this member (default \"default\")."),
        (DataDir, "Directory for the WAL and snapshots (default \"<name>.kvorum\")."),
        (ListenClientUrls, "URLs to serve clients on, comma-separated (default http://127.0.0.1:2379)."),
        (AdvertiseClientUrls, "Client URLs announced to the cluster (default: the listen client URLs)."),
        (ListenPeerUrls, "URLs to serve peers on (default http://127.0.0.1:2380)."),
        (InitialAdvertisePeerUrls, "Peer URLs announced to the cluster (default: the listen peer URLs)."),
        (InitialCluster, "Initial members, name=url,name=url (default <name>=<advertise peer urls>). Ignored once the data dir holds state."),
        (InitialClusterState, "new (bootstrap) or existing (join after member add). Ignored once the data dir holds state."),
        (InitialClusterToken, "Token that tells clusters built from the same URLs apart (default kvorum-cluster)."),
        (HeartbeatInterval, "Heartbeat interval in milliseconds (default 100)."),
        (ElectionTimeout, "Election timeout in milliseconds, a multiple of the heartbeat (default 1000)."),
        (SnapshotCount, "Applied entries between snapshots, at least (default 10000); a large state also waits for a log half its size."),
        (SnapshotCatchUpEntries, "Entries the log keeps behind a snapshot, so that a follower a little behind is sent entries, not the whole state (default 5000)."),
        (MaxRequestBytes, "Largest client request in bytes (default 1572864)."),
        (QuotaBackendBytes, "Store size in bytes past which writes are refused and the NOSPACE alarm raised; 0 for the default (2 GiB), negative for none."),
        (AutoCompactionMode, "How --auto-compaction-retention is read: periodic (a duration) or revision (a count) (default periodic)."),
        (AutoCompactionRetention, "History the leader keeps when it compacts on its own: 1h, 30m, or a number of hours (periodic), or of revisions (revision); 0 turns it off (default 0)."),
        (ListenMetricsUrls, "URLs to serve /metrics and /health on (default: none)."),
        (PreVote, "Run PreVote before elections: true or false (default true)."),
        (WatchProgressNotifyInterval, "How often watches asking for progress notifications get one, e.g. 10m or 1s; under 100ms counts as 100ms (default 10m)."),
        (EnableLeaseCheckpoint, "The leader records, through Raft, how long leases no one renews have left, so that a new leader does not give them a whole TTL again: true or false (default true)."),
        (StrictReconfigCheck, "Refuse at once a member add while this member has not been connected to every voter for 5 s, and a removal that would leave fewer connected voters than a quorum: true or false (default true)."),
        (RandomizedElectionTimeout, "Lab only: false makes every election timeout the same, so that elections can split the vote again and again (default true)."),
        (LabStateFile, "Lab only: a file where the lab writes this member's fault state; the member publishes it in its event stream."),
        (CertFile, "Certificate (PEM) for the client port; https client URLs need it or --auto-tls."),
        (KeyFile, "Private key (PEM) of --cert-file."),
        (TrustedCaFile, "CA certificates (PEM) that sign client certificates."),
        (ClientCertAuth, "Require a client certificate signed by --trusted-ca-file: true or false (default false)."),
        (AutoTls, "Serve https client URLs with a self-signed certificate made at start (encrypts, authenticates no one)."),
        (ClientCrlFile, "Certificate revocation list (DER or PEM); client certificates it lists are refused."),
        (CipherSuites, "TLS 1.2 cipher suites, comma-separated, with Go's names (default: the platform's)."),
        (PeerCertFile, "Certificate (PEM) for the peer port and for dialing peers; https peer URLs need it or --peer-auto-tls."),
        (PeerKeyFile, "Private key (PEM) of --peer-cert-file."),
        (PeerTrustedCaFile, "CA certificates (PEM) that sign peers' certificates."),
        (PeerClientCertAuth, "Accept peer traffic only with a certificate signed by --peer-trusted-ca-file: true or false (default false)."),
        (PeerAutoTls, "Serve and dial https peer URLs with a self-signed certificate (encrypts, authenticates no one)."),
        (PeerCertAllowedCn, "The only CN a peer's certificate may have (default: any)."),
        (PeerCrlFile, "Certificate revocation list (DER or PEM); peer certificates it lists are refused."),
        (AuthToken, "Kind of auth token once authentication is enabled: simple (default), or jwt,priv-key=PATH[,pub-key=PATH],sign-method=RS256|PS256|ES256|...[,ttl=5m]."),
        (AuthTokenTtl, "Seconds a simple auth token lives without use (default 300)."),
        (BcryptCost, "bcrypt cost of users' password hashes, 4 to 31 (default 10)."),
        (MaxUnreadResponseBytes, "Bytes of read answers of 64 KiB or more that may wait for their clients to read them, across all clients; a read that finds no room in time is refused with Unavailable (default 268435456)."),
    ];

    /// <summary>The environment variable that stands in for <paramref name="flag"/>: <c>KVORUM_DATA_DIR</c> for <c>--data-dir</c>.</summary>
    /// <param name="flag">A flag with its leading dashes.</param>
    /// <returns>The variable name.</returns>
    public static string EnvironmentVariable(string flag)
    {
        ArgumentNullException.ThrowIfNull(flag);
        return "KVORUM_" + flag.TrimStart('-').ToUpperInvariant().Replace('-', '_');
    }
}
