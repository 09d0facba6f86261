using System.Text.Json.Serialization;

namespace Kvorum.Lab.Checking;

/// <summary>What a client asked the key-value store to do to one key.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperationKind>))]
internal enum OperationKind
{
    /// <summary>Read the key's value (etcd <c>Range</c> on one key); the output is the value, or null if absent.</summary>
    [JsonStringEnumMemberName("get")]
    Get = 0,

    /// <summary>Write a value unconditionally (etcd <c>Put</c>).</summary>
    [JsonStringEnumMemberName("put")]
    Put = 1,

    /// <summary>
    /// Compare-and-set (etcd <c>Txn</c>: if the compare holds, put). The checker models the compare on the
    /// value; see <see cref="RegisterModel"/> for why and for what that means.
    /// </summary>
    [JsonStringEnumMemberName("cas")]
    Cas = 2,
}
