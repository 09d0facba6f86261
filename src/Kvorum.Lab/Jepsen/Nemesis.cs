using System.Diagnostics;
using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// Applies random faults one at a time on a seeded schedule: hold each 2–5 s, undo it (a killed member is restarted
/// and waited for until it answers), stay quiet 1–3 s. The
/// faults: a random partition, isolating the leader (or a random member), a one-way cut, 30% packet loss,
/// SIGKILL of a member (restarted at undo) and SIGSTOP of a member (resumed at undo); any member may be hit,
/// learners included.
/// </summary>
/// <param name="lab">The lab.</param>
/// <param name="random">The schedule's generator.</param>
/// <param name="clock">The check's clock.</param>
/// <param name="log">Receives a line per fault.</param>
/// <param name="kinds">The kinds of fault to draw from; null for <see cref="DefaultKinds"/>.</param>
internal sealed class Nemesis(LabControl lab, Random random, Stopwatch clock, Action<string> log, IReadOnlyList<string>? kinds = null)
{
    /// <summary>Every kind of fault, as <c>--faults</c> names them.</summary>
    public static readonly IReadOnlyList<string> AllKinds = ["partition", "isolate", "cut", "loss", "kill", "pause"];

    /// <summary>The kinds that need no peer: all a lab of one member can be given.</summary>
    public static readonly IReadOnlyList<string> ProcessKinds = ["kill", "pause"];

    private readonly IReadOnlyList<string> _kinds = kinds ?? DefaultKinds(lab.NodeCount);
    private readonly List<NemesisEvent> _events = [];

    /// <summary>All kinds of fault, or only <see cref="ProcessKinds"/> for a single member (a network fault needs two).</summary>
    /// <param name="members">Members in the lab.</param>
    public static IReadOnlyList<string> DefaultKinds(int members) => members > 1 ? AllKinds : ProcessKinds;

    /// <summary>Checks a <c>--faults</c> list against the lab's size.</summary>
    /// <param name="requested">The kinds asked for.</param>
    /// <param name="members">Members in the lab.</param>
    /// <returns>A message saying what is wrong, or null.</returns>
    public static string? Validate(IReadOnlyList<string> requested, int members)
    {
        ArgumentNullException.ThrowIfNull(requested);
        if (requested.Count == 0)
            return "--faults needs at least one kind";
        if (requested.FirstOrDefault(k => !AllKinds.Contains(k)) is { } unknown)
            return $"unknown fault '{unknown}'; the kinds are {string.Join(", ", AllKinds)}";
        if (members == 1 && requested.FirstOrDefault(k => !ProcessKinds.Contains(k)) is { } network)
            return $"'{network}' needs two members; a lab of one member takes only {string.Join(", ", ProcessKinds)}";
        return null;
    }

    /// <summary>The faults applied so far.</summary>
    public IReadOnlyList<NemesisEvent> Events => _events;

    /// <summary>Runs the schedule for <paramref name="duration"/>, then undoes whatever is in force.</summary>
    /// <param name="duration">How long.</param>
    /// <param name="cancellation">Ctrl-C.</param>
    public async Task RunAsync(TimeSpan duration, CancellationToken cancellation)
    {
        var end = clock.Elapsed + duration;
        var nodes = lab.NodeCount;
        while (clock.Elapsed < end - TimeSpan.FromSeconds(2))
        {
            var kind = _kinds[random.Next(_kinds.Count)];
            var node = random.Next(1, nodes + 1);
            Func<Task> undo;
            string description;
            switch (kind)
            {
                case "partition":
                    int[] order = [.. Enumerable.Range(1, nodes).OrderBy(_ => random.Next())];
                    var split = random.Next(1, (nodes + 1) / 2 + 1);
                    var partition = lab.AddFault(Fault.Partition([order[..split], order[split..]]));
                    (description, undo) = (partition.ToString(), () => Done(() => lab.Heal(partition.Id)));
                    break;
                case "isolate":
                    var target = random.Next(2) == 0 && await lab.AgreedLeaderAsync(cancellation).ConfigureAwait(false) is { } leader ? leader : node;
                    var isolate = lab.AddFault(Fault.Isolate(target));
                    (description, undo) = (isolate.ToString(), () => Done(() => lab.Heal(isolate.Id)));
                    break;
                case "cut":
                    var to = 1 + ((node - 1 + random.Next(1, nodes)) % nodes);
                    var cut = lab.AddFault(Fault.Cut(node, to, oneWay: true));
                    (description, undo) = (cut.ToString(), () => Done(() => lab.Heal(cut.Id)));
                    break;
                case "loss":
                    var loss = lab.AddFault(Fault.Loss(node, 30));
                    (description, undo) = (loss.ToString(), () => Done(() => lab.Heal(loss.Id)));
                    break;
                case "kill":
                    lab.Kill(node);
                    (description, undo) = ($"kill n{node}", () => RestartAsync(node, cancellation));
                    break;
                default:
                    lab.Pause(node);
                    (description, undo) = ($"pause n{node}", () => Done(() => lab.Resume(node)));
                    break;
            }

            var start = clock.Elapsed;
            log($"[{start.TotalSeconds,6:0.0}s] nemesis: {description}");
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(2000, 5000)), cancellation).ConfigureAwait(false);
            await undo().ConfigureAwait(false);
            _events.Add(new NemesisEvent(kind, description, start, clock.Elapsed));
            log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] nemesis: undo {description}");
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(1000, 3000)), cancellation).ConfigureAwait(false);
        }
    }

    private static Task Done(Action undo)
    {
        undo();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts a killed member and waits (up to <see cref="RestartWait"/>) until it answers: the quiet time that follows
    /// is then time the member serves, however long a loaded machine takes to start a process. Without it, a lone
    /// member could spend every quiet time starting up, and be killed again before a client reached it.
    /// </summary>
    private async Task RestartAsync(int node, CancellationToken cancellation)
    {
        lab.StartNode(node);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < RestartWait && await lab.Client.StatusAsync(node, TimeSpan.FromMilliseconds(500), cancellation).ConfigureAwait(false) is null)
            await Task.Delay(100, cancellation).ConfigureAwait(false);
    }

    private static readonly TimeSpan RestartWait = TimeSpan.FromSeconds(15);

    /// <summary>Heals every fault and brings every member back: started if down, resumed if paused.</summary>
    public void RestoreAll()
    {
        lab.Heal();
        for (var node = 1; node <= lab.NodeCount; node++)
        {
            if (lab.IsPaused(node))
                lab.Resume(node);
            else if (lab.Pid(node) == 0)
                lab.StartNode(node);
        }
    }
}
