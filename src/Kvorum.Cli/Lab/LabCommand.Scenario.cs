using System.CommandLine;
using Kvorum.Lab;
using Kvorum.Lab.Scenarios;

namespace Kvorum.Cli.Lab;

/// <summary><c>kvorum lab scenario NAME [--tls] | --list</c>.</summary>
internal static partial class LabCommand
{
    private static Command Scenario(CliContext context, Option<string> dir)
    {
        var name = new Argument<string?>("NAME") { Description = "The scenario to run (see --list).", Arity = ArgumentArity.ZeroOrOne };
        var list = new Option<bool>("--list") { Description = "List the scenarios." };
        var rounds = new Option<int>("--rounds") { Description = "Rounds for kill-leader-loop (default 10) and election-timing (default 100)." };
        var election = new Option<int>("--election-timeout") { Description = "Members' election timeout in ms (default 1000).", DefaultValueFactory = _ => 1000 };
        var heartbeat = new Option<int>("--heartbeat-interval") { Description = "Members' heartbeat interval in ms (default 100).", DefaultValueFactory = _ => 100 };
        var keep = new Option<bool>("--keep") { Description = "Leave the lab up at the end." };
        var subnet = new Option<string>("--subnet") { Description = "IPv4 subnet (default 10.77.0.0/24).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultSubnet };
        var prefix = new Option<string>("--prefix") { Description = "Name prefix (default kvorum).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultPrefix };
        var tls = TlsOption.Create();
        var command = new Command("scenario", "Run a narrated scenario in a fresh lab; exits non-zero when a prediction does not hold.") { name, list, rounds, election, heartbeat, keep, subnet, prefix, tls };
        command.SetAction(async (parse, cancellation) =>
        {
            if (parse.GetValue(list) || parse.GetValue(name) is null)
            {
                foreach (var s in ScenarioCatalog.All)
                    await context.Out.WriteLineAsync($"{s.Name,-20} {s.Summary}").ConfigureAwait(false);
                return parse.GetValue(list) ? ExitCodes.Ok : throw new UsageException("name a scenario, or --list to see them");
            }

            var scenario = Guard(() => ScenarioCatalog.Find(parse.GetValue(name)!));
            var electionMs = parse.GetValue(election);
            var heartbeatMs = parse.GetValue(heartbeat);
            if (electionMs < 5 * heartbeatMs || heartbeatMs < 10)
                throw new UsageException($"--election-timeout ({electionMs}) must be at least 5 × --heartbeat-interval ({heartbeatMs}), which must be at least 10 ms");
            var options = new ScenarioOptions
            {
                Lab = new LabOptions { Directory = parse.GetValue(dir)!, Subnet = parse.GetValue(subnet)!, Prefix = parse.GetValue(prefix)!, ServerCommand = ServerCommand(), Tls = parse.GetValue(tls) },
                ElectionTimeoutMs = electionMs,
                HeartbeatMs = heartbeatMs,
                Rounds = parse.GetValue(rounds),
                Keep = parse.GetValue(keep),
            };
            var passed = await Guard(() => ScenarioRunner.RunAsync(scenario, options, context.Out, cancellation)).ConfigureAwait(false);
            return passed ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }
}
