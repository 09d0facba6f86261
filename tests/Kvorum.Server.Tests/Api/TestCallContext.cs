using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kvorum.Server.Tests.Api;

/// <summary>
/// A gRPC call for a service method called in-process: a deadline a minute away (a budget wait outlasts a loaded
/// machine's pauses), no auth, a cancellation the test controls, and an
/// ASP.NET Core request whose features the method may set (read back with <see cref="Features"/>).
/// </summary>
internal sealed class TestCallContext : ServerCallContext
{
    // Where Grpc.AspNetCore's GetHttpContext looks for the request of a call it did not create itself.
    private const string HttpContextKey = "__HttpContext";

    private readonly DefaultHttpContext _http = new();
    private readonly CancellationToken _cancellation;

    /// <summary>A call that ends when <paramref name="cancellation"/> fires.</summary>
    public TestCallContext(CancellationToken cancellation = default)
    {
        _cancellation = cancellation;
        UserState[HttpContextKey] = _http;
    }

    /// <summary>The features of the call's request.</summary>
    public IFeatureCollection Features => _http.Features;

    protected override string MethodCore => "/test";

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:1";

    protected override DateTime DeadlineCore { get; } = DateTime.UtcNow.AddMinutes(1);

    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => _cancellation;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("no propagation in-process");

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
