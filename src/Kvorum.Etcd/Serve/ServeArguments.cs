using System.Globalization;

namespace Kvorum.Etcd.Serve;

/// <summary>
/// The command line of one <c>kvorum serve</c>, typed: each property stands for one of <see cref="ServeFlags"/>, and
/// null leaves its flag out, so that the server's default (or its <c>KVORUM_*</c> variable) applies. <c>cluster up</c>,
/// the lab and the tests that start members all write their command lines with <see cref="ToArgs"/>, in one order.
/// </summary>
/// <remarks>
/// A record, so that settings shared by every member (timeouts, PreVote) are kept once and each member's own name,
/// directory and URLs are added with <c>with</c>. URLs are written as <c>http://host:port</c>, the only form serve takes.
/// </remarks>
internal sealed record ServeArguments
{
    /// <summary><c>--name</c>: the member's name, its key in <see cref="InitialCluster"/>.</summary>
    public string? Name { get; init; }

    /// <summary><c>--data-dir</c>: the member's WAL and snapshots.</summary>
    public string? DataDir { get; init; }

    /// <summary><c>--listen-client-urls</c>.</summary>
    public IReadOnlyList<Uri>? ListenClientUrls { get; init; }

    /// <summary><c>--advertise-client-urls</c>.</summary>
    public IReadOnlyList<Uri>? AdvertiseClientUrls { get; init; }

    /// <summary><c>--listen-peer-urls</c>.</summary>
    public IReadOnlyList<Uri>? ListenPeerUrls { get; init; }

    /// <summary><c>--initial-advertise-peer-urls</c>.</summary>
    public IReadOnlyList<Uri>? InitialAdvertisePeerUrls { get; init; }

    /// <summary><c>--listen-metrics-urls</c>: where <c>/metrics</c> and <c>/health</c> are served.</summary>
    public IReadOnlyList<Uri>? ListenMetricsUrls { get; init; }

    /// <summary><c>--initial-cluster</c>: the members the cluster starts with, in the order written.</summary>
    public IReadOnlyList<InitialClusterMember>? InitialCluster { get; init; }

    /// <summary><c>--initial-cluster-token</c>.</summary>
    public string? InitialClusterToken { get; init; }

    /// <summary>
    /// <c>--initial-cluster-state</c>: true writes <c>existing</c> (a member added with <c>member add</c> joins a running
    /// cluster), false writes <c>new</c> (the initial members bootstrap it together).
    /// </summary>
    public bool? JoinExistingCluster { get; init; }

    /// <summary><c>--election-timeout</c>, in milliseconds.</summary>
    public int? ElectionTimeoutMs { get; init; }

    /// <summary><c>--heartbeat-interval</c>, in milliseconds.</summary>
    public int? HeartbeatIntervalMs { get; init; }

    /// <summary><c>--pre-vote</c>.</summary>
    public bool? PreVote { get; init; }

    /// <summary><c>--experimental-randomized-election-timeout</c> (scenarios: split-vote).</summary>
    public bool? RandomizedElectionTimeout { get; init; }

    /// <summary><c>--snapshot-count</c>.</summary>
    public ulong? SnapshotCount { get; init; }

    /// <summary><c>--experimental-lab-state-file</c> (the lab: the member publishes its fault state).</summary>
    public string? LabStateFile { get; init; }

    /// <summary><c>--experimental-snapshot-catchup-entries</c>.</summary>
    public ulong? SnapshotCatchUpEntries { get; init; }

    /// <summary>
    /// Flags written as given after the typed ones, for those without a property. serve takes the last value of a flag
    /// given twice, so these also override the typed ones.
    /// </summary>
    public IReadOnlyList<string> ExtraFlags { get; init; } = [];

    /// <summary>The whole command line after the program: <c>serve</c>, then <see cref="ToFlags"/>.</summary>
    public IReadOnlyList<string> ToArgs() => ["serve", .. ToFlags()];

    /// <summary>
    /// The flags alone, typed ones first in a fixed order, then <see cref="ExtraFlags"/>. <c>kvorum snapshot restore</c>
    /// takes serve's naming flags too, so a restore is written with these.
    /// </summary>
    /// <returns>Flag, value, flag, value, ...</returns>
    public IReadOnlyList<string> ToFlags()
    {
        var args = new List<string>();
        void Add(string flag, string? value)
        {
            if (value is not null)
                args.AddRange([flag, value]);
        }

        Add(ServeFlags.Name, Name);
        Add(ServeFlags.DataDir, DataDir);
        Add(ServeFlags.ListenClientUrls, Urls(ListenClientUrls));
        Add(ServeFlags.AdvertiseClientUrls, Urls(AdvertiseClientUrls));
        Add(ServeFlags.ListenPeerUrls, Urls(ListenPeerUrls));
        Add(ServeFlags.InitialAdvertisePeerUrls, Urls(InitialAdvertisePeerUrls));
        Add(ServeFlags.ListenMetricsUrls, Urls(ListenMetricsUrls));
        Add(ServeFlags.InitialCluster, InitialCluster is null ? null : string.Join(',', InitialCluster.Select(m => $"{m.Name}={Authority(m.PeerUrl)}")));
        Add(ServeFlags.InitialClusterToken, InitialClusterToken);
        Add(ServeFlags.InitialClusterState, JoinExistingCluster switch { true => "existing", false => "new", null => null });
        Add(ServeFlags.ElectionTimeout, Number(ElectionTimeoutMs));
        Add(ServeFlags.HeartbeatInterval, Number(HeartbeatIntervalMs));
        Add(ServeFlags.PreVote, PreVote switch { true => "true", false => "false", null => null });
        Add(ServeFlags.SnapshotCount, Number(SnapshotCount));
        Add(ServeFlags.SnapshotCatchUpEntries, Number(SnapshotCatchUpEntries));
        Add(ServeFlags.RandomizedElectionTimeout, RandomizedElectionTimeout switch { true => "true", false => "false", null => null });
        Add(ServeFlags.LabStateFile, LabStateFile);
        args.AddRange(ExtraFlags);
        return args;
    }

    /// <summary>
    /// These arguments with https client and peer URLs and mutual TLS on both ports, as <c>cluster up --tls</c> and
    /// <c>lab up --tls</c> run their members: the member presents <paramref name="certFile"/> to clients and peers alike
    /// and asks each of them for a certificate signed by <paramref name="caFile"/>.
    /// </summary>
    /// <param name="certFile">The member's certificate (PEM).</param>
    /// <param name="keyFile">Its key (PEM).</param>
    /// <param name="caFile">The CA that signs every member's and client's certificate (PEM).</param>
    /// <returns>The secured arguments.</returns>
    public ServeArguments WithMutualTls(string certFile, string keyFile, string caFile) => this with
    {
        ListenClientUrls = ListenClientUrls?.Select(Https).ToList(),
        AdvertiseClientUrls = AdvertiseClientUrls?.Select(Https).ToList(),
        ListenPeerUrls = ListenPeerUrls?.Select(Https).ToList(),
        InitialAdvertisePeerUrls = InitialAdvertisePeerUrls?.Select(Https).ToList(),
        InitialCluster = InitialCluster?.Select(m => m with { PeerUrl = Https(m.PeerUrl) }).ToList(),
        ExtraFlags =
        [
            .. ExtraFlags,
            ServeFlags.CertFile, certFile, ServeFlags.KeyFile, keyFile,
            ServeFlags.TrustedCaFile, caFile, ServeFlags.ClientCertAuth, "true",
            ServeFlags.PeerCertFile, certFile, ServeFlags.PeerKeyFile, keyFile,
            ServeFlags.PeerTrustedCaFile, caFile, ServeFlags.PeerClientCertAuth, "true",
        ],
    };

    /// <summary><paramref name="url"/> with the https scheme, the same host and port.</summary>
    /// <param name="url">A member's URL.</param>
    /// <returns>The https URL.</returns>
    public static Uri Https(Uri url) => new UriBuilder(url ?? throw new ArgumentNullException(nameof(url))) { Scheme = Uri.UriSchemeHttps, Port = url.Port }.Uri;

    private static string? Urls(IReadOnlyList<Uri>? urls) => urls is null ? null : string.Join(',', urls.Select(Authority));

    private static string Authority(Uri url) => url.GetLeftPart(UriPartial.Authority);

    private static string? Number<T>(T? value) where T : struct, IFormattable =>
        value?.ToString(null, CultureInfo.InvariantCulture);
}

/// <summary>One entry of <c>--initial-cluster</c>: a member's name and one of its peer URLs.</summary>
/// <param name="Name">The member's <c>--name</c>.</param>
/// <param name="PeerUrl">A peer URL it advertises.</param>
internal sealed record InitialClusterMember(string Name, Uri PeerUrl);
