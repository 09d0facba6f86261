namespace Kvorum.Lab.Checking;

/// <summary>The answer of a linearizability check.</summary>
internal enum Verdict
{
    /// <summary>A linearization exists.</summary>
    Linearizable = 0,

    /// <summary>No linearization exists: the history proves a consistency violation.</summary>
    NotLinearizable = 1,

    /// <summary>The search ran out of its budget (or was cancelled) before deciding.</summary>
    Unknown = 2,
}
