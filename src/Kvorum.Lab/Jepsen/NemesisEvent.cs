namespace Kvorum.Lab.Jepsen;

/// <summary>One fault the nemesis applied and when it was undone.</summary>
/// <param name="Kind">Its kind (partition, isolate, cut, loss, kill, pause).</param>
/// <param name="Description">What it was, e.g. <c>partition 1,4 / 2,3,5</c>.</param>
/// <param name="Start">When it was in force, since the start.</param>
/// <param name="End">When it was undone.</param>
internal sealed record NemesisEvent(string Kind, string Description, TimeSpan Start, TimeSpan End);
