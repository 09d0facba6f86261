using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Kvorum.Cli.Client;
using Kvorum.Cli.Lab;
using Kvorum.Etcd.Serve;
using Kvorum.Lab;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Cluster;

/// <summary>
/// <c>kvorum cluster up [--nodes 3] [--data ./kvorum-data] [--base-port 2379]</c>: runs a local cluster of
/// <c>kvorum serve</c> children on loopback (see <see cref="ClusterLayout"/>) and shows a live status line until
/// Ctrl-C, then stops them and keeps their data. A second run restarts the members with the same flags; the
/// server ignores the initial-cluster flags once its data dir holds state.
/// </summary>
internal static class ClusterUpCommand
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StatusDeadline = TimeSpan.FromMilliseconds(500);

    /// <summary>Creates the <c>cluster</c> command with its <c>up</c> subcommand.</summary>
    /// <param name="context">Streams and the shutdown signal.</param>
    /// <returns>The <c>cluster</c> command.</returns>
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var nodes = new Option<int>("--nodes") { Description = "Number of members (default 3).", DefaultValueFactory = _ => 3 };
        var data = new Option<string>("--data") { Description = "Directory for the members' data dirs and logs (default ./kvorum-data).", DefaultValueFactory = _ => "./kvorum-data" };
        var basePort = new Option<int>("--base-port") { Description = "Client port of infra1 (default 2379); infraK uses K*10000+base.", DefaultValueFactory = _ => ClusterLayout.DefaultBasePort };
        var pace = PaceOption.Create();
        // kvorum view beside the cluster (issue 22).
        var noView = new Option<bool>("--no-view") { Description = "Do not serve the page that shows the members at work." };
        var viewListen = new Option<string>("--view-listen") { Description = $"Address of that page (default {View.ViewCommand.DefaultListen}).", DefaultValueFactory = _ => View.ViewCommand.DefaultListen };
        var tls = new Option<bool>("--tls") { Description = "Mutual TLS on every port, with a throwaway CA and certificates made in <data>/tls." };
        var up = new Command("up", "Run a local cluster on loopback until Ctrl-C; data is kept between runs.") { nodes, data, basePort, pace, noView, viewListen, tls };
        up.SetAction(async (parse, cancellation) =>
        {
            var members = ClusterLayout.Plan(parse.GetValue(nodes), parse.GetValue(data) ?? "./kvorum-data", parse.GetValue(basePort));
            var paced = PaceOption.Apply(new ServeArguments(), parse.GetValue(pace));
            var view = parse.GetValue(noView) ? null : View.ViewCommand.ParseListen(parse.GetValue(viewListen) ?? View.ViewCommand.DefaultListen).ToString();
            var secured = parse.GetValue(tls) ? ClusterTls.Prepare(parse.GetValue(data) ?? "./kvorum-data", members) : null;
            return await RunAsync(context, members, parse.GetValue(data) ?? "./kvorum-data", (paced, parse.GetValue(pace)), view, secured, cancellation).ConfigureAwait(false);
        });
        var cluster = new Command("cluster", "Local clusters for development.");
        cluster.Subcommands.Add(up);
        return cluster;
    }

    /// <summary>Throws if any port of <paramref name="members"/> is taken.</summary>
    /// <param name="members">The planned members.</param>
    /// <exception cref="CommandFailedException">A port is in use; the message says which.</exception>
    public static void CheckPortsFree(IReadOnlyList<LocalMember> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        foreach (var member in members)
        {
            foreach ((var port, var role) in new[] { (member.ClientPort, "client"), (member.PeerPort, "peer") })
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                try
                {
                    listener.Start();
                }
                catch (SocketException)
                {
                    throw new CommandFailedException($"kvorum cluster up: port {port} ({member.Name} {role}) is already in use");
                }
                finally
                {
                    listener.Stop();
                    listener.Dispose();
                }
            }
        }
    }

    private static async Task<int> RunAsync(CliContext context, IReadOnlyList<LocalMember> members, string dataRoot, (ServeArguments Serve, int Factor) pace, string? viewListen, ClusterTls? tls, CancellationToken cancellation)
    {
        CheckPortsFree(members);
        Directory.CreateDirectory(dataRoot);
        var restart = members.Any(m => Directory.Exists(m.DataDir) && Directory.EnumerateFileSystemEntries(m.DataDir).Any());
        var output = context.Out;
        await output.WriteLineAsync(restart
            ? $"Restarting {members.Count} members from the data in {dataRoot} (initial-cluster flags are ignored by members with state)"
            : $"Starting a new {members.Count}-member cluster in {dataRoot}").ConfigureAwait(false);
        // Over TLS the members' URLs are https, and so are the endpoints a client is given.
        Uri Url(Uri url) => tls is null ? url : ServeArguments.Https(url);
        foreach (var m in members)
            await output.WriteLineAsync($"  {m.Name}  client {Url(m.ClientUrl).GetLeftPart(UriPartial.Authority)}  peer {Url(m.PeerUrl).GetLeftPart(UriPartial.Authority)}  log {m.LogFile}").ConfigureAwait(false);
        await output.WriteLineAsync($"endpoints: {string.Join(',', members.Select(m => tls is null ? $"127.0.0.1:{m.ClientPort}" : $"https://127.0.0.1:{m.ClientPort}"))}").ConfigureAwait(false);
        var paceLine = pace.Factor == 1 ? null : Pace.Describe(pace.Serve, pace.Factor);
        if (paceLine is not null)
            await output.WriteLineAsync(paceLine).ConfigureAwait(false);
        if (tls is not null)
            await output.WriteLineAsync($"mutual TLS: --cacert {tls.CaFile} --cert {tls.ClientCertFile} --key {tls.ClientKeyFile}").ConfigureAwait(false);
        await output.WriteLineAsync("Ctrl-C stops the cluster and keeps its data.").ConfigureAwait(false);

        ClusterMembers? started = null;
        var settings = new ClientSettings { Endpoints = [.. members.Select(m => Url(m.ClientUrl))], DialTimeout = StatusDeadline, CommandTimeout = StatusDeadline, Tls = tls?.Client() };
        using var connection = new EtcdConnection(settings);
        var exitCode = ExitCodes.Ok;
        View.ViewServer? view = null;
        try
        {
            started = ClusterMembers.Start(members, member =>
            {
                var serve = ClusterLayout.Serve(member, members) with
                {
                    HeartbeatIntervalMs = pace.Serve.HeartbeatIntervalMs,
                    ElectionTimeoutMs = pace.Serve.ElectionTimeoutMs,
                };
                return (tls is null ? serve : tls.Secure(serve, member)).ToArgs();
            });
            // The page may kill and start members: this process owns them (ClusterViewControls).
            if (viewListen is not null)
                view = await View.ClusterView.StartAsync(output, [.. members.Select(m => Url(m.ClientUrl))], viewListen, settings.Tls, new ClusterViewControls(started, m => Url(m.ClientUrl))).ConfigureAwait(false);

            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            string? printed = null;
            while (!cancellation.IsCancellationRequested)
            {
                var processes = started.Processes;
                var states = await Task.WhenAll(processes.Select(p => StateAsync(connection, p, Url(p.Member.ClientUrl), cancellation))).ConfigureAwait(false);
                var line = paceLine is null ? MemberState.Line(states) : $"pace {pace.Factor} | {MemberState.Line(states)}";
                if (context.OutIsTerminal)
                    await output.WriteAsync("\r" + line.PadRight(Math.Max(line.Length, 80))).ConfigureAwait(false);
                else if (line != printed)
                    await output.WriteLineAsync(line).ConfigureAwait(false); // a log file or a service manager: only changes
                printed = line;

                if (processes.All(p => p.ExitCode is not null) && !started.AnyKilledHere)
                {
                    await context.Error.WriteLineAsync($"{(context.OutIsTerminal ? Environment.NewLine : "")}kvorum cluster up: every member exited; see the logs in {dataRoot}").ConfigureAwait(false);
                    exitCode = ExitCodes.Failure;
                    break;
                }

                try
                {
                    await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            if (context.OutIsTerminal)
                await output.WriteLineAsync().ConfigureAwait(false);
            if (view is not null)
                await view.DisposeAsync().ConfigureAwait(false);
            await output.WriteLineAsync("Stopping the members...").ConfigureAwait(false);
            var running = started?.Processes ?? [];
            var clean = await Task.WhenAll(running.Select(p => p.StopAsync(StopGrace))).ConfigureAwait(false);
            foreach (var (process, exitedCleanly) in running.Zip(clean))
            {
                if (!exitedCleanly)
                    await output.WriteLineAsync($"  {process.Member.Name} did not stop within {StopGrace.TotalSeconds:0} s and was killed").ConfigureAwait(false);
                process.Dispose();
            }

            await output.WriteLineAsync($"Stopped; data kept in {dataRoot}").ConfigureAwait(false);
        }

        return exitCode;
    }

    private static async Task<MemberState> StateAsync(EtcdConnection connection, NodeProcess process, Uri clientUrl, CancellationToken cancellation)
    {
        if (process.ExitCode is { } code)
            return new MemberState(process.Member.Name, code, null);
        try
        {
            var status = await connection.CallAsync(
                clientUrl,
                (channel, options) => new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), options).ResponseAsync,
                cancellation).ConfigureAwait(false);
            return new MemberState(process.Member.Name, null, status);
        }
        catch (Exception e) when (e is RpcException or CommandFailedException or OperationCanceledException)
        {
            return new MemberState(process.Member.Name, process.ExitCode, null);
        }
    }
}
