using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Differential;

/// <summary>One step of a watch-and-lease differential run (<see cref="WatchLeaseStepGenerator"/>), done on both servers.</summary>
internal abstract record WatchLeaseStep
{
    /// <summary>The step as one line of a replay log.</summary>
    public abstract string Describe();

    protected static string Json(IMessage message) => DifferentialAnswer.Shorten(JsonFormatter.Default.Format(message));
}

/// <summary>
/// A unary request (KV or Lease), or a <see cref="LeaseKeepAliveRequest"/> sent alone on a keep-alive stream; both
/// servers' answers are compared.
/// </summary>
internal sealed record RequestStep(IMessage Request) : WatchLeaseStep
{
    public override string Describe() => $"{Request.GetType().Name} {Json(Request)}";
}

/// <summary>Opens a watch on watch stream <paramref name="Stream"/>; it is that stream's watch number <paramref name="Ordinal"/>.</summary>
internal sealed record OpenWatchStep(int Stream, int Ordinal, WatchCreateRequest Create) : WatchLeaseStep
{
    public override string Describe() => $"watch stream {Stream} #{Ordinal}: create {Json(Create)}";
}

/// <summary>Cancels watch number <paramref name="Ordinal"/> of stream <paramref name="Stream"/> (by the id each server gave it).</summary>
internal sealed record CancelWatchStep(int Stream, int Ordinal) : WatchLeaseStep
{
    public override string Describe() => $"watch stream {Stream} #{Ordinal}: cancel";
}

/// <summary>Nothing else happens until both servers have expired lease <paramref name="Id"/> (the reference's id).</summary>
internal sealed record AwaitExpiryStep(long Id) : WatchLeaseStep
{
    public override string Describe() => $"wait until lease {Id} has expired on both";
}
