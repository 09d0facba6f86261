using System.CommandLine;
using Grpc.Core;
using Kvorum.Cli.Output;
using Kvorum.Cli.Serve;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Backup;
using Kvorum.Etcd.Serve;
using Kvorum.Server.Backup;
using Kvorum.Storage;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum snapshot save|status|restore</c>: backups, named and printed as etcdctl's <c>snapshot</c> commands are. A
/// backup is one member's whole state machine in Kvorum's format (<see cref="BackupFile"/>); <c>restore</c> makes the
/// data directory of a member of a new cluster that starts from it.
/// </summary>
internal static class SnapshotCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>snapshot</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        return new Command("snapshot", "Save a member's state to a file, show a saved file, or restore one into a new cluster's data directory.")
        {
            Save(context, global),
            Status(context, global),
            Restore(context, global),
        };
    }

    private static Command Save(CliContext context, GlobalOptions global)
    {
        var file = new Argument<string>("filename") { Description = "Where to write the snapshot." };
        var command = new Command("save", "Stream one member's state to a file (written to FILE.part, checked, then renamed).") { file };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            if (settings.Endpoints.Count != 1)
                throw new UsageException($"snapshot must be requested to one selected node, not multiple [{string.Join(' ', settings.Endpoints.Select(EndpointParser.Display))}]");
            var path = parse.GetValue(file)!;
            if (path.Length == 0)
                throw new UsageException("the snapshot's file name must not be empty");
            var endpoint = settings.Endpoints[0];
            // A stream that goes silent for the command timeout fails; one that keeps coming may take as long as it
            // needs, with a progress line each few seconds.
            var download = new BackupDownloadSettings
            {
                IdleTimeout = settings.CommandTimeout,
                Progress = progress => context.Error.WriteLine(progress.Received == 0
                    ? $"{EndpointParser.Display(endpoint)} is writing out its state ({progress.Elapsed.TotalSeconds:0} s)"
                    : $"received {ByteSize.Format(progress.Received)}, {ByteSize.Format((long)progress.Remaining)} to go"),
            };
            try
            {
                using var connection = new EtcdConnection(settings);
                await BackupDownload.SaveAsync(new Maintenance.MaintenanceClient(connection.Channel(endpoint)), path, download, cancellation).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"Snapshot saved at {path}").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (InvalidDataException e)
            {
                throw new CommandFailedException($"Error: the snapshot received is damaged: {e.Message}");
            }
            catch (TimeoutException)
            {
                throw new CommandFailedException($"Error: {EndpointParser.Display(endpoint)} sent nothing for {settings.CommandTimeout.TotalSeconds:0.#}s (--command-timeout); snapshot not saved");
            }
            catch (RpcException e) when (EtcdConnection.IsUnreachable(e))
            {
                throw new CommandFailedException(EtcdConnection.UnreachableLine(endpoint, e));
            }
            catch (RpcException e)
            {
                throw new CommandFailedException(EtcdConnection.ErrorLine(e), e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CommandFailedException($"Error: cannot write {path}: {e.Message}");
            }
        });
        return command;
    }

    private static Command Status(CliContext context, GlobalOptions global)
    {
        var file = new Argument<string>("filename") { Description = "A file written by snapshot save." };
        var command = new Command("status", "Check a saved snapshot and print its hash, revision, total keys and size.") { file };
        command.SetAction(async (parse, cancellation) =>
        {
            var format = global.Resolve(parse, context).Output;
            var path = parse.GetValue(file)!;
            BackupSummary summary;
            try
            {
                summary = await Task.Run(() => BackupFile.Summarize(path), cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new CommandFailedException($"Error: {path}: no such file");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new CommandFailedException($"Error: {e.Message}");
            }
            new OutputWriter(context.Out, format).SnapshotStatus(summary);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Restore(CliContext context, GlobalOptions global)
    {
        var file = new Argument<string>("filename") { Description = "A file written by snapshot save." };
        var name = new Option<string>(ServeFlags.Name) { Description = "The new member's name (default \"default\")." };
        var dataDir = new Option<string>(ServeFlags.DataDir) { Description = "The new member's data directory, which must not exist, as etcd's restore wants it (default NAME.kvorum)." };
        var cluster = new Option<string>(ServeFlags.InitialCluster) { Description = "The new cluster's members, name=peer-url,... (default NAME=the advertised peer URL)." };
        var token = new Option<string>(ServeFlags.InitialClusterToken) { Description = "The new cluster's token (default kvorum-cluster)." };
        var advertise = new Option<string>(ServeFlags.InitialAdvertisePeerUrls) { Description = "The new member's peer URLs (default http://127.0.0.1:2380)." };
        var command = new Command("restore", "Make a new cluster member's data directory from a saved snapshot; start it with kvorum serve and the same flags.")
        {
            file, name, dataDir, cluster, token, advertise,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var given = new Dictionary<string, string?>
            {
                [ServeFlags.Name] = parse.GetValue(name),
                [ServeFlags.DataDir] = parse.GetValue(dataDir),
                [ServeFlags.InitialCluster] = parse.GetValue(cluster),
                [ServeFlags.InitialClusterToken] = parse.GetValue(token),
                [ServeFlags.InitialAdvertisePeerUrls] = parse.GetValue(advertise),
                // A restore writes names and URLs and dials no one: https peer URLs need their certificates when the
                // member serves them, not here (etcdctl's restore takes them without any). Said as serve's peer
                // auto-TLS so that serve's check of https URLs lets them through; nothing here reads it.
                [ServeFlags.PeerAutoTls] = "true",
            };
            // serve's own checks (names, URLs, this member in the cluster); the environment is not read, as etcdctl's restore does not.
            var options = ServeOptionsBinder.Bind(flag => given.GetValueOrDefault(flag), _ => null);
            var path = parse.GetValue(file)!;
            (long Revision, int Keys) restored;
            try
            {
                restored = await Task.Run(() => BackupRestore.Restore(path, options), cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && !File.Exists(path))
            {
                throw new CommandFailedException($"Error: {path}: no such file");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or WalCorruptException)
            {
                throw new CommandFailedException($"Error: {e.Message}");
            }
            await context.Out.WriteLineAsync(
                $"Restored snapshot {path} (revision {restored.Revision}, {restored.Keys} keys) into {options.DataDir} as member {options.Name} of a new cluster of {options.InitialCluster.Count}")
                .ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
