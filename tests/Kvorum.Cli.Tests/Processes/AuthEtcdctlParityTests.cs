using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Users and roles as etcdctl users see them (<see cref="AuthScript"/>): kvorum's <c>user</c>, <c>role</c> and
/// <c>auth</c> commands and <c>--user</c> print what etcdctl prints, against etcd; and etcdctl gets the same answers
/// from a Kvorum member as from etcd. The member's log is then searched for every password and for a token it issued:
/// none may be there.
/// </summary>
public sealed class AuthEtcdctlParityTests
{
    [SkippableFact]
    public async Task Kvorum_user_role_and_auth_commands_print_what_etcdctl_prints()
    {
        EtcdServerProcess.Require();
        Etcdctl.Require();
        await using var forEtcdctl = new EtcdServerProcess(FreePorts.Next);
        await using var forKvorum = new EtcdServerProcess(FreePorts.Next);
        await Task.WhenAll(WaitAsync(forEtcdctl.ClientUrl), WaitAsync(forKvorum.ClientUrl));

        // The two servers share nothing: each side runs the whole script in order, both sides at once.
        var (expected, actual) = await BothAsync(
            (args, stdin) => Etcdctl.RunAsync(forEtcdctl.ClientUrl, stdin, args),
            (args, stdin) => new CliRun { Stdin = stdin ?? "" }.RunAsync(["--endpoints", forKvorum.ClientUrl, .. args]));
        var differences = new List<string>();
        for (var i = 0; i < AuthScript.Steps.Length; i++)
            Compare(AuthScript.Steps[i].Args, expected[i], actual[i], differences);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [SkippableFact]
    public async Task Etcdctl_gets_the_same_auth_answers_from_Kvorum_as_from_etcd_and_no_secret_is_logged()
    {
        EtcdServerProcess.Require();
        Etcdctl.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await using var cluster = new ProcessCluster(1, "--bcrypt-cost", "4");
        cluster.StartAll();
        await Task.WhenAll(cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30)), WaitAsync(etcd.ClientUrl));

        var (expected, actual) = await BothAsync(
            (args, stdin) => Etcdctl.RunAsync(etcd.ClientUrl, stdin, args),
            (args, stdin) => Etcdctl.RunAsync(cluster.ClientUrl("m1"), stdin, args));
        var differences = new List<string>();
        for (var i = 0; i < AuthScript.Steps.Length; i++)
            Compare(AuthScript.Steps[i].Args, expected[i], actual[i], differences);
        Assert.True(differences.Count == 0, string.Join("\n", differences));

        // A token the member issued, used once: no more in the log than the passwords.
        await Etcdctl.RunAsync(cluster.ClientUrl("m1"), null, "user", "add", "root:rootpw");
        await Etcdctl.RunAsync(cluster.ClientUrl("m1"), null, "auth", "enable");
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrl("m1"));
        var token = (await new Kvorum.Etcd.Api.Auth.AuthClient(channel).AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
        await new KV.KVClient(channel).PutAsync(new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("t"), Value = Google.Protobuf.ByteString.CopyFromUtf8("v") }, new Metadata { { "token", token } });
        await new KV.KVClient(channel).PutAsync(new PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("t") }, new Metadata { { "token", token + "x" } })
            .ResponseAsync.ContinueWith(_ => { }, TaskScheduler.Default);
        var log = cluster.LogText("m1");
        Assert.True(log.Length > 0, "the member logged nothing");
        foreach (var secret in AuthScript.Secrets.Append(token).Append(token.Split('.')[0]))
            Assert.False(log.Contains(secret, StringComparison.Ordinal), $"the member's log holds a secret ({secret[..2]}…)");
    }

    /// <summary>
    /// Runs <see cref="AuthScript.Steps"/> in order on each side, the two sides at once (each side has a server of its
    /// own); returns each side's results, step by step.
    /// </summary>
    private static async Task<((int Code, string Out, string Err)[] Expected, (int Code, string Out, string Err)[] Actual)> BothAsync(
        Func<string[], string?, Task<(int Code, string Out, string Err)>> expected,
        Func<string[], string?, Task<(int Code, string Out, string Err)>> actual)
    {
        static async Task<(int Code, string Out, string Err)[]> ScriptAsync(Func<string[], string?, Task<(int Code, string Out, string Err)>> run)
        {
            var results = new List<(int Code, string Out, string Err)>();
            foreach (var (args, stdin) in AuthScript.Steps)
                results.Add(await UnhurriedAsync(() => run(args, stdin)));
            return [.. results];
        }
        var sides = await Task.WhenAll(ScriptAsync(expected), ScriptAsync(actual));
        return (sides[0], sides[1]);
    }

    /// <summary>
    /// Runs a step again when it ran out of time: on 2 loaded cores, etcd's bcrypt (cost 10) on every login can take
    /// longer than the command's deadline. Most steps that time out are logins that changed nothing; a change that took
    /// effect before its deadline passed would answer differently when repeated, and the comparison would show it.
    /// </summary>
    private static async Task<(int Code, string Out, string Err)> UnhurriedAsync(Func<Task<(int Code, string Out, string Err)>> run)
    {
        for (var attempt = 1; ; attempt++)
        {
            var result = await run();
            if (attempt == 3 || AuthScript.ErrorLine(result.Err) != "Error: context deadline exceeded")
                return result;
        }
    }

    private static void Compare(string[] args, (int Code, string Out, string Err) expected, (int Code, string Out, string Err) actual, List<string> differences)
    {
        var command = string.Join(' ', args);
        if ((expected.Code == 0) != (actual.Code == 0))
            differences.Add($"`{command}`: etcdctl exited {expected.Code} ({AuthScript.ErrorLine(expected.Err)}), kvorum {actual.Code} ({actual.Err.Trim()})");
        else if (expected.Code == 0 && expected.Out != actual.Out)
            differences.Add($"`{command}` printed\n  etcdctl: {expected.Out.Replace("\n", "⏎", StringComparison.Ordinal)}\n  kvorum:  {actual.Out.Replace("\n", "⏎", StringComparison.Ordinal)}");
        else if (expected.Code != 0 && AuthScript.ErrorLine(expected.Err) != AuthScript.ErrorLine(actual.Err))
            differences.Add($"`{command}` failed with\n  etcdctl: {AuthScript.ErrorLine(expected.Err)}\n  kvorum:  {AuthScript.ErrorLine(actual.Err)}");
    }

    private static async Task WaitAsync(string endpoint)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Etcdctl.RunAsync(endpoint, null, "endpoint", "health")).Code != 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{endpoint} did not become healthy");
            await Task.Delay(100);
        }
    }
}
