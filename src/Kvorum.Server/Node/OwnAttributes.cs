using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// This member's name and client URLs (<c>--name</c>, <c>--advertise-client-urls</c>), which it publishes through the
/// log, as etcd does, until the member table it applied holds them. A proposal to publish them can be lost (a forwarded
/// one, to a leader change), so one is made again a second after the last while the table still lacks them.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>); the clock is in milliseconds, passed in.</remarks>
internal sealed class OwnAttributes
{
    /// <summary>Milliseconds between two attempts.</summary>
    public const long RetryMilliseconds = 1000;

    private readonly ulong _self;
    private readonly string _name;
    private readonly IReadOnlyList<Uri> _clientUrls;
    private readonly LoopOwner _owner;
    private long _proposedAt = long.MinValue / 2;

    /// <summary>The attributes of member <paramref name="self"/>; a test passes no <paramref name="owner"/>.</summary>
    public OwnAttributes(ulong self, string name, IReadOnlyList<Uri> clientUrls, LoopOwner? owner = null)
    {
        _self = self;
        _name = name;
        _clientUrls = clientUrls;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>
    /// True when <paramref name="members"/> lacks this member's name or client URLs and the last attempt to publish
    /// them is <see cref="RetryMilliseconds"/> or more before <paramref name="now"/>. Not a member (yet): nothing to publish.
    /// </summary>
    public bool IsDue(MemberTable members, long now)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (now - _proposedAt < RetryMilliseconds)
            return false;
        if (!members.TryGet(_self, out var me))
            return false;
        return me.Name != _name || me.ClientURLs.Count != _clientUrls.Count;
    }

    /// <summary>The request that publishes them, with request id <paramref name="id"/>, proposed at <paramref name="now"/>.</summary>
    public InternalRequest Publish(ulong id, long now)
    {
        _owner.AssertOwned();
        _proposedAt = now;
        var attributes = new MemberAttributes { Id = _self, Name = _name };
        attributes.ClientUrls.AddRange(_clientUrls.Select(u => u.ToString().TrimEnd('/')));
        return new InternalRequest { Id = id, Attributes = attributes };
    }
}
