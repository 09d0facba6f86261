using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// The ids two servers chose for the same leases (a grant with ID 0 lets each pick its own): requests for the compared
/// server get its ids in place of the reference's, and its answers get the reference's back, so the two can be compared
/// field for field. Every lease id in a message is rewritten: each <c>lease</c> field (a put's, a compare's, a key's)
/// and the <c>ID</c> of each lease message, at any depth (in transactions, range answers, watch events). Ids that were
/// not chosen by a server (explicit ones, unknown ones) are the same on both and stay as they are.
/// </summary>
internal sealed class LeaseIdMap
{
    private readonly Dictionary<long, long> _toServer = [];
    private readonly Dictionary<long, long> _toReference = [];

    /// <summary>Records that the server chose <paramref name="server"/> where the reference chose <paramref name="reference"/>.</summary>
    /// <exception cref="InvalidOperationException">One of the ids is mapped already (the servers repeated an id).</exception>
    public void Add(long reference, long server)
    {
        if (reference == server && !_toServer.ContainsKey(reference))
            return;
        if (!_toServer.TryAdd(reference, server) || !_toReference.TryAdd(server, reference))
            throw new InvalidOperationException($"lease id {reference} (reference) or {server} (server) was chosen twice");
    }

    /// <summary>A copy of <paramref name="message"/> with the reference's lease ids replaced by the server's.</summary>
    public T ToServer<T>(T message)
        where T : IMessage => Rewrite(message, _toServer);

    /// <summary>A copy of <paramref name="message"/> with the server's lease ids replaced by the reference's.</summary>
    public T ToReference<T>(T message)
        where T : IMessage => Rewrite(message, _toReference);

    private static T Rewrite<T>(T message, Dictionary<long, long> ids)
        where T : IMessage
    {
        var copy = (T)Activator.CreateInstance(message.GetType())!;
        copy.MergeFrom(message.ToByteArray());
        if (ids.Count > 0)
            Walk(copy, ids);
        return copy;
    }

    private static void Walk(IMessage message, Dictionary<long, long> ids)
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.ContainingOneof is { } oneof && oneof.Accessor.GetCaseFieldDescriptor(message) != field)
                continue;
            var value = field.Accessor.GetValue(message);
            if (field.FieldType == FieldType.Message)
            {
                if (field.IsRepeated)
                {
                    foreach (var item in (IList)value)
                        Walk((IMessage)item, ids);
                }
                else if (value is IMessage inner)
                {
                    Walk(inner, ids);
                }
            }
            else if (field.FieldType == FieldType.Int64 && !field.IsRepeated && IsLeaseId(message.Descriptor, field)
                && ids.TryGetValue((long)value, out var mapped))
            {
                field.Accessor.SetValue(message, mapped);
            }
        }
    }

    private static bool IsLeaseId(MessageDescriptor owner, FieldDescriptor field) =>
        field.Name == "lease" || (field.Name == "ID" && owner.Name.StartsWith("Lease", StringComparison.Ordinal));
}
