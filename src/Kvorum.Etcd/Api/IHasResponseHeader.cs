namespace Kvorum.Etcd.Api;

/// <summary>An etcd response with a <see cref="ResponseHeader"/> (implemented by the generated message types).</summary>
public interface IHasResponseHeader
{
    /// <summary>The response header: cluster id, member id, revision, raft term.</summary>
    ResponseHeader Header { get; set; }
}
