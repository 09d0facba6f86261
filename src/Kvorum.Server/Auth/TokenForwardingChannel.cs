using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Kvorum.Server.Auth;

/// <summary>
/// A channel whose calls carry a client's token: the Lock and Election services run their recipes on the member's own
/// client, and etcd's run them with the caller's credentials, so a lock needs the same permissions on its keys as the
/// puts and watches it is made of.
/// </summary>
/// <param name="inner">The member's own channel.</param>
/// <param name="token">The caller's token (the <c>token</c> metadata).</param>
internal sealed class TokenForwardingChannel(ChannelBase inner, string token) : ChannelBase(inner.Target)
{
    /// <inheritdoc />
    public override CallInvoker CreateCallInvoker() =>
        inner.CreateCallInvoker().Intercept(metadata =>
        {
            metadata.Add(CallAuth.TokenKey, token);
            return metadata;
        });
}
