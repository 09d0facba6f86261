namespace Kvorum.Lab.Viewing;

/// <summary>
/// The lab's fault state as the view draws it: each member's process (running, paused or down) and the directed
/// links that drop packets, with the faults in force that make them so. Read from the state file and
/// <c>/proc</c>, never from the members, so that it stays true while they are paused or cut off.
/// </summary>
/// <param name="Nodes">Every member, by number.</param>
/// <param name="Faults">The faults in force, in the words of <c>kvorum lab status</c>.</param>
/// <param name="Blocked">The cut directed links, as <c>[from, to]</c> node numbers.</param>
internal sealed record LabPicture(IReadOnlyList<LabPictureNode> Nodes, IReadOnlyList<string> Faults, IReadOnlyList<int[]> Blocked);

/// <summary>One member in <see cref="LabPicture"/>.</summary>
/// <param name="Number">Its node number, 1..N.</param>
/// <param name="Name">Its name (<c>n1</c>).</param>
/// <param name="ClientUrl">Its client URL, which the view follows.</param>
/// <param name="Process"><c>running</c>, <c>paused</c> or <c>down</c>.</param>
/// <param name="Faults">The faults that touch it, as the lab records them (the member reports the same itself while it runs).</param>
internal sealed record LabPictureNode(int Number, string Name, Uri ClientUrl, string Process, string Faults = "");
