using System.Diagnostics;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>Runs etcd's own command-line client (Debian package <c>etcd-client</c>, installed by .ci/run).</summary>
internal static class Etcdctl
{
    public static string? Path => new[] { "/usr/bin/etcdctl", "/usr/local/bin/etcdctl" }.FirstOrDefault(File.Exists);

    /// <summary>Skips the test, saying why, when etcdctl is missing; in CI it must be there.</summary>
    public static void Require()
    {
        if (Path is null && Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("etcdctl is required in CI (apt-get install etcd-client)");
        Skip.If(Path is null, "etcdctl not installed: apt-get install etcd-client");
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(string endpoints, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(Path!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + endpoints);
        psi.ArgumentList.Add("--command-timeout=10s");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await output, await error);
    }
}
