using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Server.Tests.Cluster;
using AuthApi = Kvorum.Etcd.Api.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>What the auth tests on running members share: a started cluster with a cheap bcrypt, and calls with a token.</summary>
internal static class AuthCluster
{
    public static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>The metadata of a call made with <paramref name="token"/>.</summary>
    public static Metadata As(string token) => new() { { "token", token } };

    /// <summary>
    /// A started cluster of <paramref name="size"/> whose members hash passwords at bcrypt cost 4 (logins in
    /// milliseconds), once m1 answers.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int size = 3, int electionMs = 500)
    {
        var cluster = new LocalCluster(size, electionMs: electionMs);
        foreach (var n in cluster.Names.ToList())
            cluster.Options[n] = cluster.Options[n] with { BcryptCost = 4 };
        cluster.StartAll();
        try
        {
            await Differential.FirstPut.WhenReadyAsync(cluster.ClientUrl("m1"), () => "Kvorum did not start");
        }
        catch
        {
            await cluster.DisposeAsync(); // no test will, and its members would run on beside the next tests
            throw;
        }
        return cluster;
    }

    /// <summary>Adds root with the root role through <paramref name="channel"/>, enables authentication and logs root in; returns its token.</summary>
    public static async Task<string> EnableWithRootAsync(GrpcChannel channel)
    {
        var auth = new AuthApi.AuthClient(channel);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.AuthEnableAsync(new AuthEnableRequest());
        return (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
    }
}
