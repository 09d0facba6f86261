using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Kvorum.Server.Auth;

/// <summary>
/// A channel whose calls are made for a client: the Lock and Election services run their recipes on the member's own
/// client, and etcd's run them with the caller's credentials, so a lock needs the same permissions on its keys as the
/// puts and watches it is made of. The caller travels as its token, or, for a client known by its certificate alone,
/// as that certificate's user (<see cref="LoopbackCaller"/>).
/// </summary>
/// <param name="inner">The member's own channel.</param>
/// <param name="caller">The metadata that names the caller, added to every call.</param>
internal sealed class CallerChannel(ChannelBase inner, Metadata caller) : ChannelBase(inner.Target)
{
    /// <inheritdoc />
    public override CallInvoker CreateCallInvoker() =>
        inner.CreateCallInvoker().Intercept(metadata =>
        {
            foreach (var entry in caller)
                metadata.Add(entry);
            return metadata;
        });
}
