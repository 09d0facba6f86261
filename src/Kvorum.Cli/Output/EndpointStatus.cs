using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Output;

/// <summary>One endpoint's answer to Maintenance.Status.</summary>
/// <param name="Endpoint">The endpoint as <c>host:port</c>.</param>
/// <param name="Status">Its answer.</param>
internal sealed record EndpointStatus(string Endpoint, StatusResponse Status)
{
    /// <summary>True when the member answering is the leader it reports.</summary>
    public bool IsLeader => Status.Header is not null && Status.Leader != 0 && Status.Leader == Status.Header.MemberId;
}
