using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Kvorum.Storage.Tests;

/// <summary>
/// Real crashes: a child process (Kvorum.Storage.CrashChild) appends from many writers with group commit and
/// prints each index as soon as its append is acknowledged; it is killed with SIGKILL at a random moment,
/// and every acknowledged entry must then be in the reopened log with the right bytes. Rounds: env var
/// KVORUM_CRASH_ROUNDS (default 50).
/// </summary>
public class CrashTests(ITestOutputHelper output)
{
    private const long SegmentSize = 32 * 1024;

    [Fact]
    public void Every_acknowledged_append_survives_SIGKILL()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("KVORUM_CRASH_ROUNDS"), CultureInfo.InvariantCulture, out var r) ? r : 50;
        var child = ChildPath();
        using var dir = new TempDir();
        var random = new Random(Environment.TickCount);
        var acked = new Dictionary<ulong, (int Round, int Writer, int Seq)>();
        ulong ackedSnapshot = 0;
        long truncatedTotal = 0;
        var clock = Stopwatch.StartNew();

        for (var round = 1; round <= rounds; round++)
        {
            var lines = new List<string>();
            var ready = new ManualResetEventSlim();
            using var process = new Process
            {
                StartInfo = new ProcessStartInfo(DotnetHost())
                {
                    ArgumentList = { child, dir.Path, round.ToString(CultureInfo.InvariantCulture), "8", SegmentSize.ToString(CultureInfo.InvariantCulture) },
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                },
            };
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                    return;
                lock (lines)
                    lines.Add(e.Data);
                if (e.Data.StartsWith("READY", StringComparison.Ordinal))
                    ready.Set();
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                    lock (stderr)
                        stderr.AppendLine(e.Data);
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!ready.Wait(TimeSpan.FromSeconds(20)))
            {
                process.Kill();
                process.WaitForExit();
                Assert.Fail($"round {round}: child did not start: {stderr}");
            }
            Thread.Sleep(random.Next(5, 250));
            process.Kill(); // SIGKILL on Unix
            process.WaitForExit(); // also drains the redirected output
            Assert.True(stderr.Length == 0, $"round {round}: child wrote to stderr: {stderr}");

            var roundAcks = 0;
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                if (parts[^1] != ".")
                    continue; // cut off by the kill
                if (parts[0] == "A")
                {
                    var index = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
                    var who = (int.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture), int.Parse(parts[4], CultureInfo.InvariantCulture));
                    Assert.True(acked.TryAdd(index, who), $"round {round}: index {index} acknowledged twice ({acked.GetValueOrDefault(index)} and {who}): an acknowledged entry was lost");
                    roundAcks++;
                }
                else if (parts[0] == "S")
                {
                    ackedSnapshot = Math.Max(ackedSnapshot, ulong.Parse(parts[1], CultureInfo.InvariantCulture));
                }
            }

            using var s = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir.Path, SegmentSize = SegmentSize });
            truncatedTotal += s.Recovery.TruncatedBytes;
            Assert.True(s.Snapshot.Index >= ackedSnapshot, $"round {round}: snapshot {s.Snapshot.Index} is older than the acknowledged {ackedSnapshot}");
            if (s.Snapshot.Index > 0)
                Assert.Equal($"snap-{s.Snapshot.Index}", Encoding.ASCII.GetString(s.SnapshotData.Span));
            foreach (var (index, (ar, aw, aseq)) in acked)
            {
                Assert.True(index <= s.LastIndex, $"round {round}: acknowledged index {index} missing (last index {s.LastIndex})");
                if (index < s.FirstIndex)
                    continue; // covered by the snapshot
                var list = new List<Kvorum.Raft.Entry>();
                s.GetEntries(index, index + 1, long.MaxValue, list);
                Assert.Equal((ulong)ar, list[0].Term);
                Assert.Equal(CrashPayload(ar, aw, aseq), list[0].Data.ToArray());
            }
            acked = acked.Where(kv => kv.Key >= s.FirstIndex).ToDictionary();
            output.WriteLine($"round {round}: {roundAcks} acks, log [{s.FirstIndex}, {s.LastIndex}], {s.SegmentCount} segments, cut {s.Recovery.TruncatedBytes} bytes");
        }
        output.WriteLine($"{rounds} rounds in {clock.Elapsed.TotalSeconds:F1} s; {truncatedTotal} torn bytes cut in total");
    }

    // Must match CrashPayload.For in Kvorum.Storage.CrashChild/Program.cs.
    private static byte[] CrashPayload(int round, int writer, int seq) =>
        Encoding.ASCII.GetBytes($"r{round}-w{writer}-s{seq}-".PadRight(40 + (seq * 7 % 160), (char)('a' + (seq % 26))));

    private static string ChildPath()
    {
        // The child is built by the test project's build (a ProjectReference without an assembly reference),
        // into its own bin folder with the same configuration and framework as this assembly.
        var sep = Path.DirectorySeparatorChar;
        var baseDir = AppContext.BaseDirectory;
        var path = Path.Combine(
            baseDir.Replace($"{sep}Kvorum.Storage.Tests{sep}bin{sep}", $"{sep}Kvorum.Storage.CrashChild{sep}bin{sep}", StringComparison.Ordinal),
            "Kvorum.Storage.CrashChild.dll");
        Assert.True(File.Exists(path), $"crash child not built at {path}");
        return path;
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
