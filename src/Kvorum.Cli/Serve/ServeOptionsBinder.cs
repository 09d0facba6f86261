using System.Globalization;
using Kvorum.Etcd.Serve;
using Kvorum.Server;
using Kvorum.Server.Http2;
using Kvorum.Server.Node;

namespace Kvorum.Cli.Serve;

/// <summary>
/// Turns the raw values of <c>kvorum serve</c>'s flags into a validated <see cref="ServerOptions"/>. Each value
/// comes from its flag, else from its <c>KVORUM_*</c> environment variable, else from etcd's default.
/// </summary>
internal static class ServeOptionsBinder
{
    /// <summary>Binds and validates.</summary>
    /// <param name="flag">The value given on the command line for a flag (with dashes), or null.</param>
    /// <param name="environment">Reads an environment variable, or null when unset.</param>
    /// <returns>The server options.</returns>
    /// <exception cref="UsageException">A value is malformed or the values contradict each other.</exception>
    public static ServerOptions Bind(Func<string, string?> flag, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(flag);
        ArgumentNullException.ThrowIfNull(environment);

        string? Raw(string name)
        {
            var value = flag(name);
            if (value is not null)
                return value;
            var fromEnvironment = environment(ServeFlags.EnvironmentVariable(name));
            return string.IsNullOrEmpty(fromEnvironment) ? null : fromEnvironment;
        }

        var name = Raw(ServeFlags.Name) ?? "default";
        if (name.Trim().Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains(',', StringComparison.Ordinal))
            throw new UsageException($"{ServeFlags.Name} must be a non-empty name without '=' or ',', got \"{name}\"");

        var dataDir = Raw(ServeFlags.DataDir) ?? name + ".kvorum";
        if (dataDir.Trim().Length == 0)
            throw new UsageException($"{ServeFlags.DataDir} must not be empty");

        var listenClient = UrlListParser.Parse(ServeFlags.ListenClientUrls, Raw(ServeFlags.ListenClientUrls) ?? "http://127.0.0.1:2379");
        var advertiseClient = Advertised(Raw(ServeFlags.AdvertiseClientUrls), ServeFlags.AdvertiseClientUrls, listenClient, ServeFlags.ListenClientUrls);
        var listenPeer = UrlListParser.Parse(ServeFlags.ListenPeerUrls, Raw(ServeFlags.ListenPeerUrls) ?? "http://127.0.0.1:2380");
        var advertisePeer = Advertised(Raw(ServeFlags.InitialAdvertisePeerUrls), ServeFlags.InitialAdvertisePeerUrls, listenPeer, ServeFlags.ListenPeerUrls);

        var clusterText = Raw(ServeFlags.InitialCluster) ?? string.Join(',', advertisePeer.Select(url => $"{name}={Authority(url)}"));
        var cluster = InitialClusterParser.Parse(clusterText);
        var state = ParseState(Raw(ServeFlags.InitialClusterState) ?? "new");
        CheckSelfInCluster(name, advertisePeer, cluster);

        var token = Raw(ServeFlags.InitialClusterToken) ?? "kvorum-cluster";
        if (token.Trim().Length == 0)
            throw new UsageException($"{ServeFlags.InitialClusterToken} must not be empty");

        var heartbeat = PositiveInt(ServeFlags.HeartbeatInterval, Raw(ServeFlags.HeartbeatInterval), 100, "milliseconds");
        var election = PositiveInt(ServeFlags.ElectionTimeout, Raw(ServeFlags.ElectionTimeout), 1000, "milliseconds");
        if (election <= heartbeat)
            throw new UsageException($"{ServeFlags.ElectionTimeout} must be greater than {ServeFlags.HeartbeatInterval} ({heartbeat} ms), got {election}");
        if (election % heartbeat != 0)
            throw new UsageException($"{ServeFlags.ElectionTimeout} must be a multiple of {ServeFlags.HeartbeatInterval} ({heartbeat} ms), got {election}");

        var snapshotText = Raw(ServeFlags.SnapshotCount);
        ulong snapshotCount = 10_000;
        if (snapshotText is not null
            && (!ulong.TryParse(snapshotText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out snapshotCount) || snapshotCount == 0))
            throw new UsageException($"{ServeFlags.SnapshotCount} must be a positive whole number, got \"{snapshotText}\"");

        var catchUpText = Raw(ServeFlags.SnapshotCatchUpEntries);
        ulong catchUp = 5_000;
        if (catchUpText is not null && !ulong.TryParse(catchUpText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out catchUp))
            throw new UsageException($"{ServeFlags.SnapshotCatchUpEntries} must be a whole number, got \"{catchUpText}\"");

        var maxRequestBytes = PositiveInt(ServeFlags.MaxRequestBytes, Raw(ServeFlags.MaxRequestBytes), 1536 * 1024, "bytes");
        var quota = ParseQuota(Raw(ServeFlags.QuotaBackendBytes));
        var (compactionMode, compactionPeriod, compactionRevisions) =
            ParseAutoCompaction(Raw(ServeFlags.AutoCompactionMode) ?? "periodic", Raw(ServeFlags.AutoCompactionRetention) ?? "0");
        var metrics = UrlListParser.Parse(ServeFlags.ListenMetricsUrls, Raw(ServeFlags.ListenMetricsUrls) ?? "", allowEmpty: true);
        var preVote = ParseBool(ServeFlags.PreVote, Raw(ServeFlags.PreVote) ?? "true");
        var leaseCheckpoints = ParseBool(ServeFlags.EnableLeaseCheckpoint, Raw(ServeFlags.EnableLeaseCheckpoint) ?? "true");
        var strictReconfigCheck = ParseBool(ServeFlags.StrictReconfigCheck, Raw(ServeFlags.StrictReconfigCheck) ?? "true");
        var randomizedElectionTimeout = ParseBool(ServeFlags.RandomizedElectionTimeout, Raw(ServeFlags.RandomizedElectionTimeout) ?? "true");
        var progressText = Raw(ServeFlags.WatchProgressNotifyInterval);
        var progressInterval = TimeSpan.FromMinutes(10);
        if (progressText is not null && (!DurationParser.TryParse(progressText.Trim(), out progressInterval) || progressInterval <= TimeSpan.Zero))
            throw new UsageException($"{ServeFlags.WatchProgressNotifyInterval} must be a positive duration such as 10m or 500ms, got \"{progressText}\"");

        // Transport security (docs/security.md).
        var (clientTls, peerTls) = TlsOptionsBinder.Bind(Raw, [.. listenClient, .. advertiseClient, .. metrics], [.. listenPeer, .. advertisePeer, .. cluster.Values.SelectMany(urls => urls)]);
        var auth = AuthServeFlags.Parse(Raw);

        // Unread answers (Kvorum.Server/Http2/UnreadAnswerBudget.cs).
        var unreadText = Raw(ServeFlags.MaxUnreadResponseBytes);
        var maxUnread = UnreadAnswerBudget.DefaultBytes;
        if (unreadText is not null && (!long.TryParse(unreadText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out maxUnread) || maxUnread <= 0))
            throw new UsageException($"{ServeFlags.MaxUnreadResponseBytes} must be a positive whole number of bytes, got \"{unreadText}\"");

        return new ServerOptions
        {
            Name = name,
            DataDir = dataDir,
            ListenClientUrls = listenClient,
            AdvertiseClientUrls = advertiseClient,
            ListenPeerUrls = listenPeer,
            InitialAdvertisePeerUrls = advertisePeer,
            InitialCluster = cluster,
            InitialClusterState = state,
            InitialClusterToken = token,
            HeartbeatIntervalMs = heartbeat,
            ElectionTimeoutMs = election,
            SnapshotCount = snapshotCount,
            SnapshotCatchUpEntries = catchUp,
            MaxRequestBytes = maxRequestBytes,
            QuotaBackendBytes = quota,
            AutoCompactionMode = compactionMode,
            AutoCompactionPeriod = compactionPeriod,
            AutoCompactionRevisions = compactionRevisions,
            ListenMetricsUrls = metrics,
            PreVote = preVote,
            WatchProgressNotifyInterval = progressInterval,
            RandomizedElectionTimeout = randomizedElectionTimeout,
            LeaseCheckpoints = leaseCheckpoints,
            StrictReconfigCheck = strictReconfigCheck,
            LabStateFile = Raw(ServeFlags.LabStateFile),
            ClientTls = clientTls,
            PeerTls = peerTls,
            AuthToken = auth.Token,
            AuthTokenTtl = auth.Ttl,
            BcryptCost = auth.BcryptCost,
            MaxUnreadResponseBytes = maxUnread,
        };
    }

    private static IReadOnlyList<Uri> Advertised(string? text, string flag, IReadOnlyList<Uri> listen, string listenFlag)
    {
        if (text is not null)
            return UrlListParser.Parse(flag, text);
        if (listen.Any(UrlListParser.IsUnspecifiedHost))
            throw new UsageException($"{flag} is required when {listenFlag} listens on every interface");
        return listen;
    }

    private static void CheckSelfInCluster(string name, IReadOnlyList<Uri> advertisePeer, IReadOnlyDictionary<string, IReadOnlyList<Uri>> cluster)
    {
        if (!cluster.TryGetValue(name, out var urls))
            throw new UsageException($"{ServeFlags.InitialCluster} has no member named \"{name}\" (the {ServeFlags.Name})");

        var listed = urls.Select(Authority).Order(StringComparer.Ordinal);
        var advertised = advertisePeer.Select(Authority).Order(StringComparer.Ordinal);
        if (!listed.SequenceEqual(advertised))
            throw new UsageException(
                $"{ServeFlags.InitialAdvertisePeerUrls} ({string.Join(',', advertisePeer.Select(Authority))}) must match the " +
                $"{ServeFlags.InitialCluster} entry for \"{name}\" ({string.Join(',', urls.Select(Authority))})");
    }

    private static InitialClusterState ParseState(string text) => text.Trim().ToUpperInvariant() switch
    {
        "NEW" => InitialClusterState.New,
        "EXISTING" => InitialClusterState.Existing,
        _ => throw new UsageException($"{ServeFlags.InitialClusterState} must be new or existing, got \"{text}\""),
    };

    private static int PositiveInt(string flag, string? text, int fallback, string unit)
    {
        if (text is null)
            return fallback;
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
            throw new UsageException($"{flag} must be a positive whole number of {unit}, got \"{text}\"");
        return value;
    }

    /// <summary>etcd's rule: 0 (or no flag) is the default quota, a negative number turns the quota off.</summary>
    private static long ParseQuota(string? text)
    {
        if (text is null)
            return ServerOptions.DefaultQuotaBackendBytes;
        if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw new UsageException($"{ServeFlags.QuotaBackendBytes} must be a whole number of bytes, got \"{text}\"");
        return value switch
        {
            0 => ServerOptions.DefaultQuotaBackendBytes,
            < 0 => long.MaxValue,
            _ => value,
        };
    }

    /// <summary>
    /// etcd's rules: in periodic mode the retention is a duration (<c>30m</c>, <c>1h</c>) or a bare number of hours, in
    /// revision mode a number of revisions; 0 turns auto-compaction off.
    /// </summary>
    private static (AutoCompactionMode Mode, TimeSpan Period, long Revisions) ParseAutoCompaction(string modeText, string retention)
    {
        var text = retention.Trim();
        switch (modeText.Trim().ToUpperInvariant())
        {
            case "PERIODIC":
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var hours) && hours <= 24 * 365 * 100)
                    return (AutoCompactionMode.Periodic, TimeSpan.FromHours(hours), 0);
                if (DurationParser.TryParse(text, out var period) && period >= TimeSpan.Zero)
                    return (AutoCompactionMode.Periodic, period, 0);
                throw new UsageException($"{ServeFlags.AutoCompactionRetention} must be a duration such as 30m or 1h, or a number of hours, got \"{retention}\"");
            case "REVISION":
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var revisions))
                    return (AutoCompactionMode.Revision, TimeSpan.Zero, revisions);
                throw new UsageException($"{ServeFlags.AutoCompactionRetention} must be a whole number of revisions in revision mode, got \"{retention}\"");
            default:
                throw new UsageException($"{ServeFlags.AutoCompactionMode} must be periodic or revision, got \"{modeText}\"");
        }
    }

    private static bool ParseBool(string flag, string text) => text.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "1" => true,
        "FALSE" or "0" => false,
        _ => throw new UsageException($"{flag} must be true or false, got \"{text}\""),
    };

    private static string Authority(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
