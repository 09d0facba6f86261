using System.Security.Cryptography;
using System.Text;
using Grpc.Core;

namespace Kvorum.Server.Auth;

/// <summary>
/// How the member's own client (the Lock and Election services' loopback) says whom it calls for: the client's token,
/// as it came; or, for a client known by its certificate's CN (<see cref="CertificateUser"/>), that user's name with a
/// secret only this process knows, so that no other client can claim a user by sending the same header. etcd does the
/// same by passing the caller's context, peer certificate included, to its in-process client.
/// </summary>
internal static class LoopbackCaller
{
    /// <summary>The certificate user's name (binary metadata: any UTF-8 name).</summary>
    public const string UserHeader = "kvorum-certificate-user-bin";

    /// <summary>The process's secret, proving the header was set by the loopback.</summary>
    public const string SecretHeader = "kvorum-loopback-secret";

    private static readonly string SecretText = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The metadata that makes the loopback's calls for the caller of <paramref name="context"/>: its token, its
    /// certificate's user when it has no token, or null when it is no one (authentication off, or no credentials).
    /// </summary>
    public static Metadata? Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (CallAuth.Token(context) is { } token)
            return new Metadata { { CallAuth.TokenKey, token } };
        var who = CallAuth.Of(context);
        if (who.IsEmpty)
            return null;
        return new Metadata { { UserHeader, Encoding.UTF8.GetBytes(who.User) }, { SecretHeader, SecretText } };
    }

    /// <summary>The certificate user a loopback call is made for, or null when it carries none or the secret is wrong.</summary>
    public static string? CertificateUserOf(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.RequestHeaders;
        if (headers.Get(UserHeader) is not { IsBinary: true } user || headers.GetValue(SecretHeader) is not { } secret)
            return null;
        var given = Encoding.ASCII.GetBytes(secret);
        var expected = Encoding.ASCII.GetBytes(SecretText);
        return CryptographicOperations.FixedTimeEquals(given, expected) ? Encoding.UTF8.GetString(user.ValueBytes) : null;
    }
}
