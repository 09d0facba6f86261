using System.Text.Json.Serialization;

namespace Kvorum.Lab.Faults;

/// <summary>The network faults the lab can apply.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultKind>))]
internal enum FaultKind
{
    /// <summary>Nodes in different groups cannot exchange packets.</summary>
    Partition,

    /// <summary>One node exchanges no packets with any other node.</summary>
    Isolate,

    /// <summary>Packets from one node to another are dropped (and back, unless one-way).</summary>
    Cut,

    /// <summary>A percentage of a node's packets is dropped at random.</summary>
    Loss,

    /// <summary>A node's outgoing bandwidth is limited.</summary>
    Slow,
}
