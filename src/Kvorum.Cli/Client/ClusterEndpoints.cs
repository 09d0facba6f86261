using System.CommandLine;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// etcdctl's <c>--cluster</c> (on <c>endpoint</c> and <c>defrag</c>): instead of the endpoints given, every member's
/// client URLs, as the cluster's member list names them (asked of the endpoints given).
/// </summary>
internal static class ClusterEndpoints
{
    /// <summary>Whether <paramref name="flag"/> was given on this command line.</summary>
    /// <param name="parse">The parse result.</param>
    /// <param name="flag">The <c>--cluster</c> option, which this command may not have.</param>
    /// <returns>True when the command has the flag and it is set.</returns>
    public static bool Requested(ParseResult parse, Option<bool> flag)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return parse.GetResult(flag) is not null && parse.GetValue(flag);
    }

    /// <summary>The settings with every member's client URLs as the endpoints.</summary>
    /// <param name="settings">The settings, whose endpoints are asked for the member list.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <returns>The settings for the whole cluster.</returns>
    /// <exception cref="CommandFailedException">No endpoint answered, or no member has a client URL yet.</exception>
    public static async Task<ClientSettings> ExpandAsync(ClientSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var connection = new EtcdConnection(settings);
        var members = await connection.CallAsync(
            // Serializable, as etcdctl 3.4 asks (3.5's asks linearizable): `endpoint health --cluster` must still find
            // every member when the cluster has lost its quorum, which is when it is run.
            (channel, options) => new Kvorum.Etcd.Api.Cluster.ClusterClient(channel).MemberListAsync(new MemberListRequest { Linearizable = false }, options).ResponseAsync,
            cancellation).ConfigureAwait(false);
        var urls = members.Members.SelectMany(m => m.ClientURLs).Distinct(StringComparer.Ordinal).ToList();
        if (urls.Count == 0)
            throw new CommandFailedException("Error: no member of the cluster has published a client URL yet");
        return settings with { Endpoints = EndpointParser.Parse(string.Join(',', urls)) };
    }
}
