using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A data directory belongs to the member that made it (issue 19, finding 10): started with another member's flags it is
/// refused in one line and left as it was, while the starts an operator makes on purpose still work: the same flags
/// again, new peer URLs after <c>member update</c>, and a member that joined with <c>--initial-cluster-state existing</c>.
/// Members are stopped cleanly, never killed or paused, and nothing is timed: the tests run beside the others.
/// </summary>
public sealed partial class MemberIdentityProcessTests
{
    private static readonly TimeSpan Exit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Swapped_data_directories_are_refused_unchanged_and_start_again_once_swapped_back()
    {
        await using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await PutAsync(cluster, "k", "v");
        var id1 = (await cluster.RequireStatusAsync("m1")).Header.MemberId;
        var id2 = (await cluster.RequireStatusAsync("m2")).Header.MemberId;
        Assert.Equal(0, await cluster.StopAsync("m1", Exit));
        Assert.Equal(0, await cluster.StopAsync("m2", Exit));

        Swap(cluster.DataDir("m1"), cluster.DataDir("m2"));
        var before1 = Fingerprint(cluster.DataDir("m1"));
        var before2 = Fingerprint(cluster.DataDir("m2"));
        // Only what the refused starts write is this test's subject: the logs already hold the first run's.
        var (from1, from2) = (cluster.LogText("m1").Length, cluster.LogText("m2").Length);
        cluster.Start("m1");
        cluster.Start("m2");
        Assert.Equal(1, await cluster.WaitForExitAsync("m1", Exit));
        Assert.Equal(1, await cluster.WaitForExitAsync("m2", Exit));

        // One line each, naming the member the directory belongs to and the member the flags describe.
        var line1 = Assert.Single(ErrorLines(cluster.LogText("m1")[from1..]));
        Assert.StartsWith($"kvorum serve: data directory {Path.GetFullPath(cluster.DataDir("m1"))} belongs to member \"m2\" ({id2:x16}), not to \"m1\" ({id1:x16})", line1, StringComparison.Ordinal);
        var line2 = Assert.Single(ErrorLines(cluster.LogText("m2")[from2..]));
        Assert.StartsWith($"kvorum serve: data directory {Path.GetFullPath(cluster.DataDir("m2"))} belongs to member \"m1\" ({id1:x16}), not to \"m2\" ({id2:x16})", line2, StringComparison.Ordinal);
        Assert.Equal(before1, Fingerprint(cluster.DataDir("m1")));
        Assert.Equal(before2, Fingerprint(cluster.DataDir("m2")));

        // Swapped back, each starts with the same flags as before, under its own id, and the cluster serves the key.
        Swap(cluster.DataDir("m1"), cluster.DataDir("m2"));
        cluster.Start("m1");
        cluster.Start("m2");
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(id1, (await cluster.RequireStatusAsync("m1")).Header.MemberId);
        Assert.Equal(id2, (await cluster.RequireStatusAsync("m2")).Header.MemberId);
        var read = await cluster.ReadAfterFailoverAsync("m1", new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, TimeSpan.FromSeconds(20), _ => { });
        Assert.Equal("v", Assert.Single(read.Kvs).Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_member_starts_with_the_peer_URLs_of_member_update_and_a_joined_member_restarts()
    {
        // m4 is added as soon as there is a leader: etcd's strict check would refuse it for 5 s.
        await using var cluster = new ProcessCluster(3, "--strict-reconfig-check=false");
        cluster.StartAll();
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var members = new Kvorum.Etcd.Api.Cluster.ClusterClient(cluster.Channel("m1"));

        // A member added with member add joins with --initial-cluster-state existing, then restarts with the same flags.
        cluster.Define("m4");
        var added = await members.MemberAddAsync(new MemberAddRequest { PeerURLs = { cluster.PeerUrl("m4") } });
        cluster.Start("m4", joinExisting: true);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        await PutAsync(cluster, "joined", "yes");
        Assert.Equal(0, await cluster.StopAsync("m4", Exit));
        cluster.Start("m4", joinExisting: true);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(added.Member.ID, (await cluster.RequireStatusAsync("m4")).Header.MemberId);

        // m3 is stopped and moved to new ports; member update records its new peer URL while it is down, so its own
        // directory still lists the old one. It starts with the new URLs (not the ones its id was made from).
        var id3 = (await cluster.RequireStatusAsync("m3")).Header.MemberId;
        Assert.Equal(0, await cluster.StopAsync("m3", Exit));
        cluster.Define("m3");
        await members.MemberUpdateAsync(new MemberUpdateRequest { ID = id3, PeerURLs = { cluster.PeerUrl("m3") } });
        cluster.Start("m3");
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(id3, (await cluster.RequireStatusAsync("m3")).Header.MemberId);
        var list = await members.MemberListAsync(new MemberListRequest());
        Assert.Equal([cluster.PeerUrl("m3")], list.Members.Single(m => m.ID == id3).PeerURLs);
        await PutAsync(cluster, "after", "update");
    }

    /// <summary>A put through any running member, retried while a leader settles.</summary>
    private static async Task PutAsync(ProcessCluster cluster, string key, string value)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            foreach (var name in cluster.Members.Keys.Where(cluster.IsRunning))
            {
                try
                {
                    await cluster.Kv(name).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, deadline: DateTime.UtcNow.AddSeconds(3));
                    return;
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
                {
                }
            }
            await Task.Delay(100);
        }
    }

    private static void Swap(string a, string b)
    {
        var aside = a + ".aside";
        Directory.Move(a, aside);
        Directory.Move(b, a);
        Directory.Move(aside, b);
    }

    /// <summary>Every file under <paramref name="directory"/> with its length and SHA-256: equal only if nothing changed.</summary>
    internal static string Fingerprint(string directory) =>
        string.Join('\n', Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(directory, f)} {new FileInfo(f).Length} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));

    /// <summary>What a member printed that is not a log line.</summary>
    internal static List<string> ErrorLines(string log) =>
        [.. log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !LogLine().IsMatch(l))];

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d\d\d (info|warn): ")]
    private static partial Regex LogLine();
}
