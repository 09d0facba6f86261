using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Cli.Serve;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum member list|add|remove|promote|update</c>: cluster membership over etcd's Cluster service.</summary>
internal static class MemberCommand
{
    /// <summary>Creates the command and its subcommands.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>member</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("member", "List, add, remove, promote or update cluster members.");
        command.Subcommands.Add(List(context, global));
        command.Subcommands.Add(Add(context, global));
        command.Subcommands.Add(Remove(context, global));
        command.Subcommands.Add(Promote(context, global));
        command.Subcommands.Add(Update(context, global));
        return command;
    }

    private static Command List(CliContext context, GlobalOptions global)
    {
        var consistency = new Option<string>("--consistency") { Description = "l (linearizable, default) or s (serializable).", DefaultValueFactory = _ => "l" };
        consistency.AcceptOnlyFromAmong("l", "s");
        var command = new Command("list", "List the members.") { consistency };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var request = new MemberListRequest { Linearizable = parse.GetValue(consistency) == "l" };
            var response = await CallAsync(settings, (client, options) => client.MemberListAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Members(response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add(CliContext context, GlobalOptions global)
    {
        var name = new Argument<string>("name") { Description = "Name of the new member." };
        var peerUrls = new Option<string>("--peer-urls") { Description = "Comma-separated peer URLs of the new member.", Required = true };
        var learner = new Option<bool>("--learner") { Description = "Add the member as a non-voting learner." };
        var command = new Command("add", "Add a member; prints the settings to start it with.") { name, peerUrls, learner };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var newName = parse.GetValue(name) ?? "";
            var urls = UrlListParser.Parse("--peer-urls", parse.GetValue(peerUrls) ?? "");
            var request = new MemberAddRequest { IsLearner = parse.GetValue(learner) };
            request.PeerURLs.AddRange(urls.Select(Authority));
            var response = await CallAsync(settings, (client, options) => client.MemberAddAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            if (settings.Output == OutputFormat.Json)
            {
                new OutputWriter(context.Out, settings.Output).Line("", response);
                return ExitCodes.Ok;
            }

            var cluster = response.Members
                .SelectMany(m => m.PeerURLs.Select(url => (Name: m.ID == response.Member.ID ? newName : m.Name, Url: url)))
                .Where(p => p.Name.Length > 0)
                .Select(p => $"{p.Name}={p.Url}");
            var added = response.Member.IsLearner ? "added as a learner" : "added";
            await context.Out.WriteAsync(
                $"Member {OutputWriter.Hex(response.Member.ID)} {added} to cluster {OutputWriter.Hex(response.Header.ClusterId)}\n\n" +
                $"KVORUM_NAME=\"{newName}\"\n" +
                $"KVORUM_INITIAL_CLUSTER=\"{string.Join(',', cluster)}\"\n" +
                $"KVORUM_INITIAL_ADVERTISE_PEER_URLS=\"{string.Join(',', response.Member.PeerURLs)}\"\n" +
                "KVORUM_INITIAL_CLUSTER_STATE=\"existing\"\n").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove(CliContext context, GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "Hex id of the member." };
        var command = new Command("remove", "Remove a member.") { id };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var request = new MemberRemoveRequest { ID = MemberIdParser.Parse(parse.GetValue(id)) };
            var response = await CallAsync(settings, (client, options) => client.MemberRemoveAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(
                $"Member {OutputWriter.Hex(request.ID)} removed from cluster {OutputWriter.Hex(response.Header?.ClusterId ?? 0)}", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Promote(CliContext context, GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "Hex id of the learner." };
        var command = new Command("promote", "Promote a learner to a voting member.") { id };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var request = new MemberPromoteRequest { ID = MemberIdParser.Parse(parse.GetValue(id)) };
            var response = await CallAsync(settings, (client, options) => client.MemberPromoteAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(
                $"Member {OutputWriter.Hex(request.ID)} promoted in cluster {OutputWriter.Hex(response.Header?.ClusterId ?? 0)}", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Update(CliContext context, GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "Hex id of the member." };
        var peerUrls = new Option<string>("--peer-urls") { Description = "The member's new comma-separated peer URLs.", Required = true };
        var command = new Command("update", "Change a member's peer URLs.") { id, peerUrls };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var request = new MemberUpdateRequest { ID = MemberIdParser.Parse(parse.GetValue(id)) };
            request.PeerURLs.AddRange(UrlListParser.Parse("--peer-urls", parse.GetValue(peerUrls) ?? "").Select(Authority));
            var response = await CallAsync(settings, (client, options) => client.MemberUpdateAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(
                $"Member {OutputWriter.Hex(request.ID)} updated in cluster {OutputWriter.Hex(response.Header?.ClusterId ?? 0)}", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<T> CallAsync<T>(
        ClientSettings settings, Func<Etcd.Api.Cluster.ClusterClient, Grpc.Core.CallOptions, Task<T>> call, CancellationToken cancellation)
    {
        using var connection = new EtcdConnection(settings);
        return await connection.CallAsync((channel, options) => call(new Etcd.Api.Cluster.ClusterClient(channel), options), cancellation).ConfigureAwait(false);
    }

    private static string Authority(Uri url) => url.GetLeftPart(UriPartial.Authority);
}
