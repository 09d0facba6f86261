using System.Globalization;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Tests.Cluster;
using Kvorum.Server.Tests.Differential;
using Kvorum.Tests.Shared;
using Xunit.Abstractions;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// Kvorum's users and roles against etcd's: the same seeded random mix of user, role and permission changes, auth
/// enabling and disabling, and KV requests made as different users (<see cref="AuthStepGenerator"/>) goes to a
/// one-member etcd and a 3-member Kvorum cluster, and every answer must be the same, errors included (gRPC code and
/// text). Then every Kvorum member restarts (from a snapshot: one is taken every 20 entries) and root reads every
/// user and role back from both.
/// <para>Sized by <c>KVORUM_AUTH_DIFF_SEEDS</c> (default 1) and <c>KVORUM_AUTH_DIFF_OPS</c> (default 150);
/// <c>KVORUM_AUTH_DIFF_SEED=n</c> runs seed n alone.</para>
/// </summary>
public sealed class AuthDifferentialTests(ITestOutputHelper output)
{
    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    [SkippableFact]
    public async Task Same_answers_as_etcd_for_random_user_role_and_key_requests()
    {
        EtcdServerProcess.Require();
        var ops = Setting("KVORUM_AUTH_DIFF_OPS", 150);
        var one = Setting("KVORUM_AUTH_DIFF_SEED", 0);
        var seeds = one > 0 ? [one] : Enumerable.Range(1, Setting("KVORUM_AUTH_DIFF_SEEDS", 1)).ToArray();
        foreach (var seed in seeds)
        {
            try
            {
                await RunSeedAsync(seed, ops);
            }
            catch (Exception e) when (e is not SkipException)
            {
                throw new InvalidOperationException(
                    $"seed {seed} failed; replay with: KVORUM_AUTH_DIFF_SEED={seed} KVORUM_AUTH_DIFF_OPS={ops} dotnet test tests/Kvorum.Server.Tests --filter FullyQualifiedName~AuthDifferential\n{e.Message}", e);
            }
        }
    }

    private async Task RunSeedAsync(int seed, int count)
    {
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await using var cluster = new LocalCluster(3, snapshotCount: 20);
        foreach (var n in cluster.Names.ToList())
            cluster.Options[n] = cluster.Options[n] with { BcryptCost = 4 };
        cluster.StartAll();
        await FirstPut.WhenReadyAsync(etcd.ClientUrl, () => $"etcd did not start: {etcd.Output}");
        await FirstPut.WhenReadyAsync(cluster.ClientUrl("m1"), () => "Kvorum did not start");
        using var reference = new AuthComparedServer("etcd", [etcd.ClientUrl]);
        using var kvorum = new AuthComparedServer("kvorum", [.. cluster.Names.Select(cluster.ClientUrl)]);

        var generator = new AuthStepGenerator(seed);
        var member = 0;
        var refused = 0;
        for (var i = 0; i < count; i++)
        {
            if (i % 25 == 24)
                member++;
            var step = generator.Next();
            var expected = await reference.CallAsync(0, step, generator.PasswordOf);
            var actual = await kvorum.CallAsync(member, step, generator.PasswordOf);
            if (Environment.GetEnvironmentVariable("KVORUM_AUTH_DIFF_TRACE") == "1")
                output.WriteLine($"{i} {step}\n  etcd:   {expected}\n  kvorum: {actual}");
            Compare(i, step, expected, actual);
            if (expected.Response is not null)
                generator.Succeeded(step);
            else
                refused++;
        }

        foreach (var name in cluster.Names.ToList())
            await cluster.StopAsync(name);
        cluster.StartAll();
        kvorum.ForgetTokens();
        var reads = new List<IMessage> { new AuthUserListRequest(), new AuthRoleListRequest() };
        foreach (var user in new[] { "root", "alice", "bob", "carol" })
            reads.Add(new AuthUserGetRequest { Name = user });
        foreach (var role in new[] { "root", "reader", "writer", "mixed", "nope" })
            reads.Add(new AuthRoleGetRequest { Role = role });
        reads.Add(new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) });
        var at = count;
        foreach (var read in reads)
        {
            var step = new AuthStep(read, "root");
            var expected = await reference.CallAsync(0, step, generator.PasswordOf);
            var actual = await WithRetryAsync(() => kvorum.CallAsync(at, step, generator.PasswordOf));
            Compare(at++, step, expected, actual);
        }
        output.WriteLine($"seed {seed}: {count} steps answered alike ({refused} refused), and {reads.Count} reads after a restart");
    }

    /// <summary>Right after a restart a member may still be electing: "no leader" and timeouts are tried again.</summary>
    private static async Task<DifferentialAnswer> WithRetryAsync(Func<Task<DifferentialAnswer>> call)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var answer = await call();
            if (answer.Code != Grpc.Core.StatusCode.Unavailable || DateTime.UtcNow > deadline)
                return answer;
            await Task.Delay(200);
        }
    }

    private static void Compare(int index, AuthStep step, DifferentialAnswer expected, DifferentialAnswer actual)
    {
        if (!expected.Matches(actual))
            throw new Xunit.Sdk.XunitException($"step {index}, {step}\n  etcd:   {expected}\n  kvorum: {actual}");
    }
}
