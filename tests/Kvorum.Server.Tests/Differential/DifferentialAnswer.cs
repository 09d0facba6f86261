using Google.Protobuf;
using Grpc.Core;

namespace Kvorum.Server.Tests.Differential;

/// <summary>A server's answer to one request: the response (normalised), or the error's gRPC code and message.</summary>
internal sealed record DifferentialAnswer(IMessage? Response, StatusCode Code, string Error)
{
    /// <summary>True when both are the same response, or the same error (code and message).</summary>
    public bool Matches(DifferentialAnswer other) =>
        Response is null
            ? other.Response is null && other.Code == Code && other.Error == Error
            : other.Response is not null && other.Response.Equals(Response);

    public override string ToString() => Response is not null ? Shorten(JsonFormatter.Default.Format(Response)) : $"error {Code}: {Error}";

    /// <summary>A message's JSON, with long strings (an oversized value is 2 MiB of base64) cut short.</summary>
    public static string Shorten(string json) =>
        System.Text.RegularExpressions.Regex.Replace(json, "\"([^\"]{200})[^\"]{40,}\"", m => $"\"{m.Groups[1].Value}…({m.Length} chars)\"");
}
