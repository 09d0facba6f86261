using System.Text.Json.Serialization;

namespace Kvorum.Lab.Checking;

/// <summary>What the client learned about an operation it invoked.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperationOutcome>))]
internal enum OperationOutcome
{
    /// <summary>
    /// The operation completed and its output is known. It took effect at one instant between its
    /// invocation and its completion.
    /// </summary>
    [JsonStringEnumMemberName("ok")]
    Ok = 0,

    /// <summary>
    /// The operation definitely did not take effect (for example, the server rejected it before proposing
    /// it). The checker drops it. A compare-and-set whose compare failed is not this: it is
    /// <see cref="Ok"/> with <see cref="KvOutput.Succeeded"/> false.
    /// </summary>
    [JsonStringEnumMemberName("failed")]
    Failed = 1,

    /// <summary>
    /// The client does not know (a timeout, a lost connection): the operation may have taken effect at
    /// any instant after its invocation, even after the client gave up, or never. The checker treats its
    /// completion as +infinity and its output as unknown, so it may be linearized anywhere after its
    /// invocation, or left out.
    /// </summary>
    [JsonStringEnumMemberName("indeterminate")]
    Indeterminate = 2,
}
