namespace Kvorum.Lab.Scenarios;

/// <summary>One keep-alive of a <see cref="LockContender"/>.</summary>
/// <param name="Sent">When it was sent, on the scenario's clock.</param>
/// <param name="Completed">When its answer (or failure) came.</param>
/// <param name="Ttl">The TTL answered (0: the lease no longer exists); null when no answer came.</param>
/// <param name="Error">Why no answer came.</param>
internal sealed record KeepAliveRecord(TimeSpan Sent, TimeSpan Completed, long? Ttl, string? Error)
{
    /// <summary>The leader renewed the lease: it answered a TTL above 0.</summary>
    public bool Renewed => Ttl > 0;
}
