using System.CommandLine;
using Kvorum.Lab;
using Kvorum.Lab.Faults;

namespace Kvorum.Cli.Lab;

/// <summary>The fault and process subcommands.</summary>
internal static partial class LabCommand
{
    private static IEnumerable<Command> FaultCommands(CliContext context, Option<string> dir)
    {
        var groups = new Argument<string[]>("groups") { Description = "Groups of node numbers separated by '/', e.g. 1,2 / 3,4,5.", Arity = ArgumentArity.OneOrMore };
        var partition = new Command("partition", "Split the nodes into groups that cannot reach each other (clients on the host still reach every node).") { groups };
        partition.SetAction((parse, _) => Apply(context, dir, parse, () => Fault.Partition(FaultParser.Groups(parse.GetValue(groups) ?? []))));
        yield return partition;

        var isolateNode = NodeArgument();
        var isolate = new Command("isolate", "Cut node N off from every other node.") { isolateNode };
        isolate.SetAction((parse, _) => Apply(context, dir, parse, () => Fault.Isolate(parse.GetValue(isolateNode))));
        yield return isolate;

        var from = new Argument<int>("A") { Description = "The node whose packets are dropped." };
        var to = new Argument<int>("B") { Description = "The node they go to." };
        var oneWay = new Option<bool>("--one-way") { Description = "Drop only A's packets to B; B's packets to A are delivered." };
        var cut = new Command("cut", "Cut the link between A and B (both ways unless --one-way).") { from, to, oneWay };
        cut.SetAction((parse, _) => Apply(context, dir, parse, () => Fault.Cut(parse.GetValue(from), parse.GetValue(to), parse.GetValue(oneWay))));
        yield return cut;

        var lossNode = NodeArgument();
        var percent = new Argument<int>("PERCENT") { Description = "Share of packets dropped at random, 1..100." };
        var loss = new Command("loss", "Drop PERCENT% of node N's packets at random (nft numgen).") { lossNode, percent };
        loss.SetAction((parse, _) => Apply(context, dir, parse, () => Fault.Loss(parse.GetValue(lossNode), parse.GetValue(percent))));
        yield return loss;

        var slowNode = NodeArgument();
        var rate = new Option<string>("--rate") { Description = "Bandwidth for the node's outgoing traffic, as tc takes it (default 1mbit).", DefaultValueFactory = _ => "1mbit" };
        var slow = new Command("slow", "Limit node N's outgoing bandwidth with a tbf qdisc.") { slowNode, rate };
        slow.SetAction((parse, _) => Apply(context, dir, parse, () => Fault.Slow(parse.GetValue(slowNode), parse.GetValue(rate)!)));
        yield return slow;

        var id = new Argument<int?>("ID") { Description = "Heal only this fault (its # in `kvorum lab status`); all when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var heal = new Command("heal", "Undo every fault, or just fault ID.") { id };
        heal.SetAction(async (parse, _) =>
        {
            using var control = Guard(() => LabControl.Open(parse.GetValue(dir)!));
            var healed = Guard(() => control.Heal(parse.GetValue(id)));
            await context.Out.WriteLineAsync(HealedLine(healed)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        yield return heal;
    }

    private static async Task<int> Apply(CliContext context, Option<string> dir, ParseResult parse, Func<Fault> make)
    {
        using var control = Guard(() => LabControl.Open(parse.GetValue(dir)!));
        var fault = Guard(() => control.AddFault(Guard(make)));
        await context.Out.WriteLineAsync(AppliedLine(fault)).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    /// <summary>What <c>kvorum lab FAULT</c> (and the view's fault buttons) say once a fault is in force.</summary>
    internal static string AppliedLine(Fault fault) => $"applied #{fault.Id} {fault}; `kvorum lab heal {fault.Id}` undoes it";

    /// <summary>What <c>kvorum lab heal</c> (and the view's heal button) say.</summary>
    internal static string HealedLine(IReadOnlyList<Fault> healed) =>
        healed.Count == 0 ? "no faults were in force" : "healed " + string.Join("; ", healed.Select(f => $"#{f.Id} {f}"));

    /// <summary>
    /// The process verbs (kill, stop, start, pause, resume): name, help, and the act, which returns what to say. The
    /// view's buttons run these same acts.
    /// </summary>
    internal static IReadOnlyList<(string Name, string Description, Func<LabControl, int, string> Act)> ProcessVerbs { get; } =
    [
        ("kill", "SIGKILL node N's server: it stops at once, keeping only what it fsynced.", (c, n) => { c.Kill(n); return "killed"; }),
        ("stop", "SIGTERM node N's server and wait for it to exit.", (c, n) => c.Stop(n) ? "stopped" : "did not stop in time; killed"),
        ("start", "Start node N's server again from its data dir.", (c, n) => $"started (pid {c.StartNode(n)})"),
        ("pause", "SIGSTOP node N's server: it holds its sockets but answers nothing.", (c, n) => { c.Pause(n); return "paused"; }),
        ("resume", "SIGCONT a paused server.", (c, n) => { c.Resume(n); return "resumed"; }),
    ];

    private static IEnumerable<Command> ProcessCommands(CliContext context, Option<string> dir)
    {
        foreach (var verb in ProcessVerbs)
        {
            var node = NodeArgument();
            var command = new Command(verb.Name, verb.Description) { node };
            command.SetAction(async (parse, _) =>
            {
                using var control = Guard(() => LabControl.Open(parse.GetValue(dir)!));
                var n = parse.GetValue(node);
                var done = Guard(() => verb.Act(control, n));
                await context.Out.WriteLineAsync($"{control.Layout.Node(n).Name}: {done}").ConfigureAwait(false);
                return ExitCodes.Ok;
            });
            yield return command;
        }
    }
}
