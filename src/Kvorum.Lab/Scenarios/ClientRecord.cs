namespace Kvorum.Lab.Scenarios;

/// <summary>One client call of a scenario workload.</summary>
/// <param name="Node">The node it was sent to.</param>
/// <param name="IsWrite">A put (true) or a linearizable get (false).</param>
/// <param name="Key">The key.</param>
/// <param name="Invoked">When it was sent, since the scenario started.</param>
/// <param name="Completed">When the answer (or the error) came.</param>
/// <param name="Ok">Whether it succeeded.</param>
/// <param name="Error">The gRPC status when it failed.</param>
internal sealed record ClientRecord(int Node, bool IsWrite, string Key, TimeSpan Invoked, TimeSpan Completed, bool Ok, string? Error);
