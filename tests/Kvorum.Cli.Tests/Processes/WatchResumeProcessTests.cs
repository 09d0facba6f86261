using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A watch given several endpoints outlives the member it was streaming from: etcdctl (etcd's client) and
/// <c>kvorum watch</c> both resume on another endpoint from the revision after the last event printed, so the user
/// sees every event once, in order, across a <c>kill -9</c>.
/// </summary>
public sealed class WatchResumeProcessTests() : EtcdctlClusterTest(3, "--heartbeat-interval", "50", "--election-timeout", "500")
{
    private static int Events(string output) => output.Split('\n').Count(l => l.TrimEnd('\r') == "PUT");

    /// <summary>Puts <paramref name="key"/> through any running member but <paramref name="not"/>, retrying through an election.</summary>
    private async Task PutAsync(string key, string not)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (var name in Cluster.Members.Keys.Where(n => n != not && Cluster.IsRunning(n)))
            {
                try
                {
                    await Cluster.Kv(name).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v") }, deadline: DateTime.UtcNow.AddSeconds(3));
                    return;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(100);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task A_watch_resumes_on_another_endpoint_after_its_member_is_killed_and_prints_each_event_once(string tool)
    {
        if (tool == "etcdctl")
            Etcdctl.Require();
        var first = Cluster.Members.Keys.First();
        var endpoints = Cluster.Endpoints([first, .. Cluster.Members.Keys.Where(n => n != first)]);
        await using var watch = CliProcess.Start(tool, endpoints, stdin: false, "watch", "r/", "--prefix");
        // The watch starts from "now" once its stream is up: write until it has printed the first events.
        var written = 0;
        for (; written < 100 && Events(watch.Out) < 3; written++)
        {
            await PutAsync($"r/{written:D3}", not: first);
            await Task.Delay(50);
        }
        await watch.WaitForOutputAsync(o => Events(o) >= 3, TimeSpan.FromSeconds(20), "first events");
        var before = Events(watch.Out);

        Cluster.Kill(first);
        for (var i = 0; i < 5; i++)
            await PutAsync($"r/{written++:D3}", not: first);
        var lastKey = $"r/{written - 1:D3}";
        await watch.WaitForOutputAsync(o => o.Contains(lastKey, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the events written after the kill");
        await watch.SignalAsync();
        await watch.ExitAsync(TimeSpan.FromSeconds(10));

        var keys = watch.Out.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("r/", StringComparison.Ordinal)).ToList();
        var firstSeen = int.Parse(keys[0][2..], System.Globalization.CultureInfo.InvariantCulture);
        var expected = Enumerable.Range(firstSeen, written - firstSeen).Select(i => $"r/{i:D3}").ToList();
        Assert.True(expected.SequenceEqual(keys), $"{tool} printed [{string.Join(' ', keys)}], expected [{string.Join(' ', expected)}]; {before} before the kill; stderr: {watch.Err}");
    }
}
