namespace Kvorum.Server.Auth;

/// <summary>
/// Marks every request of the member's own client (the Lock and Election services' loopback) with a header, so that
/// <see cref="CertificateUser"/> does not take the member certificate it presents for a user. A client that sends the
/// header itself only gives up its own certificate's user; it gains nothing.
/// </summary>
internal sealed class LoopbackMark(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The header's name.</summary>
    public const string Header = "kvorum-loopback";

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.TryAddWithoutValidation(Header, "1");
        return base.SendAsync(request, cancellationToken);
    }
}
