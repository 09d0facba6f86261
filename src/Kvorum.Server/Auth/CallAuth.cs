using Grpc.Core;

namespace Kvorum.Server.Auth;

/// <summary>
/// Who a gRPC call is made as, as <see cref="AuthInterceptor"/> resolved its token before the handler ran: the handler
/// reads it with <see cref="Of"/>.
/// </summary>
internal static class CallAuth
{
    /// <summary>The metadata key of a client's token, as etcd's (<c>rpctypes.TokenFieldNameGRPC</c>).</summary>
    public const string TokenKey = "token";

    private static readonly object Key = new();

    /// <summary>The call's user; <see cref="AuthInfo.None"/> when none was resolved (no token, or authentication off).</summary>
    public static AuthInfo Of(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(Key, out var who) ? (AuthInfo)who : AuthInfo.None;
    }

    /// <summary>Records the call's user.</summary>
    public static void Set(ServerCallContext context, AuthInfo who) => context.UserState[Key] = who;

    /// <summary>The token the call carries, or null.</summary>
    public static string? Token(ServerCallContext context) => context.RequestHeaders.GetValue(TokenKey);
}
