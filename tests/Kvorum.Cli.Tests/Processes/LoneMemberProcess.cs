using System.Collections.Concurrent;
using System.Diagnostics;
using Kvorum.Etcd.Serve;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Starts one <c>kvorum serve</c> member (named m1, a fresh data directory under a test's root, a free peer port) with
/// the flags and environment a test gives: the process tests that need a lone member with particular settings (TLS
/// files, auth tokens) start it here. The caller reads its standard error when it expects <c>serve</c> to refuse.
/// </summary>
internal static class LoneMemberProcess
{
    /// <summary>Starts the member at <paramref name="clientUrl"/>.</summary>
    /// <param name="root">The directory its data directory goes under.</param>
    /// <param name="clientUrl">Its client URL (http or https).</param>
    /// <param name="flags">Flags after the cluster's own.</param>
    /// <param name="environment">Environment variables to set; null for none.</param>
    /// <param name="log">Where every line it writes (both streams) goes; null to leave standard error to the caller.</param>
    public static Process Start(string root, string clientUrl, IReadOnlyList<string> flags, IReadOnlyDictionary<string, string>? environment = null, ConcurrentQueue<string>? log = null)
    {
        var peer = new Uri($"http://127.0.0.1:{FreePorts.Next()}");
        var serve = new ServeArguments
        {
            Name = "m1",
            DataDir = Path.Combine(root, "m1-" + Guid.NewGuid().ToString("N")[..6]),
            ListenClientUrls = [new Uri(clientUrl)],
            AdvertiseClientUrls = [new Uri(clientUrl)],
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = [new InitialClusterMember("m1", peer)],
            ExtraFlags = [.. flags],
        };
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kvorum.dll"));
        foreach (var a in serve.ToArgs())
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, line) => { if (line.Data is not null) log?.Enqueue(line.Data); };
        p.BeginOutputReadLine();
        if (log is not null)
        {
            p.ErrorDataReceived += (_, line) => { if (line.Data is not null) log.Enqueue(line.Data); };
            p.BeginErrorReadLine();
        }
        return p;
    }
}
