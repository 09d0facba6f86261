using System.CommandLine;
using Kvorum.Lab;
using Kvorum.Lab.Jepsen;

namespace Kvorum.Cli.Lab;

/// <summary><c>kvorum lab check</c>: the Jepsen-style linearizability check under faults.</summary>
internal static partial class LabCommand
{
    private static Command Check(CliContext context, Option<string> dir)
    {
        var nodes = new Option<int>("--nodes") { Description = "Members (default 5).", DefaultValueFactory = _ => 5 };
        var learners = new Option<int>("--learners") { Description = "Members added as learners after the voters (default 0); the nemesis hits them too, the clients use only voters.", DefaultValueFactory = _ => 0 };
        var faults = new Option<string?>("--faults") { Description = "The kinds of fault, comma-separated: partition, isolate, cut, loss, kill, pause (default all; kill,pause for one member)." };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients (default 10).", DefaultValueFactory = _ => 10 };
        var keys = new Option<int>("--keys") { Description = "Keys the clients share (default 5).", DefaultValueFactory = _ => 5 };
        var duration = new Option<string>("--duration") { Description = "How long the nemesis runs (default 60s).", DefaultValueFactory = _ => "60s" };
        var keyLifetime = new Option<string>("--key-lifetime") { Description = "How long a key is used before a fresh one replaces it (default 5s); keeps each key's history small enough to check.", DefaultValueFactory = _ => "5s" };
        var recovery = new Option<string>("--recovery") { Description = "How long clients run after the final heal (default 10s).", DefaultValueFactory = _ => "10s" };
        var seed = new Option<int?>("--seed") { Description = "Seed of the fault schedule and the clients' choices (default: random, printed)." };
        var history = new Option<string?>("--history") { Description = "Where to write the history as JSON lines (default history.jsonl in the lab directory)." };
        var noFaults = new Option<bool>("--no-faults") { Description = "Run the clients without a nemesis (a baseline)." };
        var keep = new Option<bool>("--keep") { Description = "Leave the lab up at the end." };
        var workload = new Option<string>("--workload") { Description = "kv (default): gets, puts and CAS; watch: also watchers whose events are checked against the history.", DefaultValueFactory = _ => "kv" };
        workload.AcceptOnlyFromAmong("kv", "watch");
        var watcherCount = new Option<int>("--watchers") { Description = "Watchers for --workload watch (default 6).", DefaultValueFactory = _ => 6 };
        var serializable = new Option<bool>("--serializable-reads") { Description = "Read members' local state (etcd's --consistency=s) instead of linearizably: a broken client, to see the checker catch stale reads." };
        var election = new Option<int?>("--election-timeout") { Description = "Members' election timeout in ms (default 1000)." };
        var heartbeat = new Option<int?>("--heartbeat-interval") { Description = "Members' heartbeat interval in ms (default 100)." };
        var subnet = new Option<string>("--subnet") { Description = "IPv4 subnet (default 10.77.0.0/24).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultSubnet };
        var prefix = new Option<string>("--prefix") { Description = "Name prefix (default kvorum).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultPrefix };
        var tls = TlsOption.Create();
        var command = new Command("check", "Random gets, puts and CAS from concurrent clients while a nemesis injects faults; the history is checked for linearizability. Exit 0 only if it is.")
        {
            nodes, learners, faults, clients, keys, keyLifetime, duration, recovery, seed, history, noFaults, keep, serializable, workload, watcherCount, election, heartbeat, subnet, prefix, tls,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var clientCount = parse.GetValue(clients);
            var keyCount = parse.GetValue(keys);
            if (clientCount is < 1 or > 100)
                throw new UsageException($"--clients must be between 1 and 100, got {clientCount}");
            if (keyCount is < 1 or > 100)
                throw new UsageException($"--keys must be between 1 and 100, got {keyCount}");
            var watching = parse.GetValue(workload) == "watch";
            var watcherTotal = parse.GetValue(watcherCount);
            if (watcherTotal is < 1 or > 100)
                throw new UsageException($"--watchers must be between 1 and 100, got {watcherTotal}");
            if (!watching && parse.GetResult(watcherCount) is { Implicit: false })
                throw new UsageException("--watchers needs --workload watch");
            var voterCount = parse.GetValue(nodes);
            var learnerCount = parse.GetValue(learners);
            if (voterCount < 1)
                throw new UsageException($"--nodes must be at least 1, got {voterCount}");
            if (learnerCount is < 0 or > 1)
                throw new UsageException($"--learners must be 0 or 1 (a cluster takes one learner, as etcd), got {learnerCount}");
            var kinds = parse.GetValue(faults) is { } list ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
            if (kinds is not null && Nemesis.Validate(kinds, voterCount + learnerCount) is { } wrong)
                throw new UsageException(wrong);
            var settings = new CheckSettings
            {
                Lab = new LabOptions
                {
                    Nodes = voterCount,
                    Learners = learnerCount,
                    Directory = parse.GetValue(dir)!,
                    Subnet = parse.GetValue(subnet)!,
                    Prefix = parse.GetValue(prefix)!,
                    ServerCommand = ServerCommand(),
                    Serve = Serve(parse.GetValue(election), parse.GetValue(heartbeat), null),
                    Tls = parse.GetValue(tls),
                },
                Clients = clientCount,
                Keys = keyCount,
                KeyLifetime = DurationParser.ParseFlag("--key-lifetime", parse.GetValue(keyLifetime)!),
                Duration = DurationParser.ParseFlag("--duration", parse.GetValue(duration)!),
                Recovery = DurationParser.ParseFlag("--recovery", parse.GetValue(recovery)!),
                Seed = parse.GetValue(seed) ?? Random.Shared.Next(),
                HistoryPath = parse.GetValue(history),
                NoFaults = parse.GetValue(noFaults),
                Keep = parse.GetValue(keep),
                SerializableReads = parse.GetValue(serializable),
                Watchers = watching ? watcherTotal : 0,
                Faults = kinds,
            };
            var passed = await Guard(() => JepsenCheck.RunAsync(settings, context.Out, cancellation)).ConfigureAwait(false);
            return passed ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var file = new Argument<string>("HISTORY") { Description = "A history as JSON lines, as `kvorum lab check` writes it." };
        var budget = new Option<string>("--budget") { Description = "How long the checker may search (default 5m).", DefaultValueFactory = _ => "5m" };
        var command = new Command("verify", "Check a recorded history for linearizability again (no root needed).") { file, budget };
        command.SetAction(async (parse, cancellation) =>
        {
            var path = parse.GetValue(file)!;
            Kvorum.Lab.Checking.History history;
            try
            {
                history = Kvorum.Lab.Checking.HistoryJson.ReadFile(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                throw new CommandFailedException($"kvorum lab verify: cannot read {path}: {e.Message}", e);
            }

            var options = new Kvorum.Lab.Checking.CheckOptions { Timeout = DurationParser.ParseFlag("--budget", parse.GetValue(budget)!) };
            var result = Kvorum.Lab.Checking.Linearizability.Check(history, options, cancellation);
            await context.Out.WriteAsync(result.ToString()).ConfigureAwait(false);
            return result.IsLinearizable ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }
}
