using Google.Protobuf;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// One step of an auth differential run: a request (an Auth change or read, or a KV request) made as a user (null:
/// without a token), and the password the step's user logs in with.
/// </summary>
/// <param name="Request">The request.</param>
/// <param name="User">Who makes it; null for no token.</param>
internal sealed record AuthStep(IMessage Request, string? User)
{
    public override string ToString() => $"as {User ?? "(no token)"}: {Request.Descriptor.Name} {JsonFormatter.Default.Format(Request)}";
}
