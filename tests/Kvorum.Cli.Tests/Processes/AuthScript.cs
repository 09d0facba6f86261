namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// The user, role and auth commands both auth parity tests run, as etcdctl 3.4 takes them, with what goes to stdin:
/// users and roles made, permissions granted and revoked on keys, ranges, prefixes and open ends, auth enabled (with
/// etcdctl's adding of the root role), commands made as users who may and may not, every refusal etcd has for them,
/// a password change, and auth disabled again. <see cref="Secrets"/> are the passwords, which no log may show.
/// </summary>
internal static class AuthScript
{
    public static readonly string[] Secrets = ["rootpw", "alicepw", "bobpw", "newalicepw"];

    public static readonly (string[] Args, string? Stdin)[] Steps =
    [
        (["user", "add", "root:rootpw"], null),
        (["user", "add", "alice", "--new-user-password=alicepw"], null),
        (["user", "add", "bob:bobpw"], null),
        (["user", "add", "bob:other"], null),
        (["user", "list"], null),
        (["user", "get", "root"], null),
        (["role", "list"], null),
        (["role", "add", "r1"], null),
        (["role", "add", "r1"], null),
        (["role", "add", "r2"], null),
        (["role", "list"], null),
        (["role", "grant-permission", "r1", "readwrite", "a", "z"], null),
        (["role", "grant-permission", "r1", "read", "--prefix", "p"], null),
        (["role", "grant-permission", "r1", "write", "--from-key", "q"], null),
        (["role", "grant-permission", "r1", "read", "k1"], null),
        (["role", "grant-permission", "nope", "read", "k1"], null),
        (["role", "get", "r1"], null),
        (["role", "get", "r2"], null),
        (["role", "get", "nope"], null),
        (["user", "grant-role", "alice", "r1"], null),
        (["user", "grant-role", "alice", "nope"], null),
        (["user", "grant-role", "nobody", "r1"], null),
        (["user", "get", "alice"], null),
        (["user", "get", "alice", "--detail"], null),
        (["user", "get", "nobody"], null),
        (["role", "revoke-permission", "r1", "k1"], null),
        (["role", "revoke-permission", "r1", "k1"], null),
        (["role", "revoke-permission", "r1", "q", "--from-key"], null),
        (["role", "revoke-permission", "r1", "a", "z"], null),
        (["role", "get", "r1"], null),
        (["user", "revoke-role", "alice", "r2"], null),
        (["auth", "enable"], null),
        (["auth", "enable"], null),
        (["user", "get", "root"], null),
        (["get", "a"], null),
        (["--user", "root:rootpw", "user", "list"], null),
        (["--user", "root", "--password", "rootpw", "role", "list"], null),
        (["--user", "alice:alicepw", "put", "b", "1"], null),
        (["--user", "root:rootpw", "role", "grant-permission", "r1", "readwrite", "a", "z"], null),
        (["--user", "alice:alicepw", "put", "b", "1"], null),
        (["--user", "alice:alicepw", "get", "b"], null),
        (["--user", "alice:alicepw", "get", "p", "--from-key"], null),
        (["--user", "alice:alicepw", "get", "a", "--prefix"], null),
        (["--user", "alice:wrong", "get", "b"], null),
        (["--user", "nobody:x", "get", "b"], null),
        (["--user", "alice:alicepw", "user", "list"], null),
        (["--user", "alice:alicepw", "user", "get", "alice"], null),
        (["--user", "alice:alicepw", "role", "get", "r1"], null),
        (["--user", "alice:alicepw", "role", "get", "r2"], null),
        (["--user", "alice:alicepw", "user", "add", "eve:x"], null),
        (["--user", "bob:bobpw", "get", "b"], null),
        (["--user", "root:rootpw", "user", "revoke-role", "root", "root"], null),
        (["--user", "root:rootpw", "user", "delete", "root"], null),
        (["--user", "root:rootpw", "role", "delete", "root"], null),
        (["--user", "root:rootpw", "user", "passwd", "alice", "--interactive=false"], "newalicepw\n"),
        (["--user", "alice:alicepw", "get", "b"], null),
        (["--user", "alice:newalicepw", "get", "b"], null),
        (["--user", "root:rootpw", "user", "revoke-role", "alice", "r1"], null),
        (["--user", "root:rootpw", "user", "revoke-role", "alice", "r1"], null),
        (["--user", "root:rootpw", "role", "delete", "r1"], null),
        (["--user", "root:rootpw", "role", "delete", "r1"], null),
        (["--user", "root:rootpw", "user", "delete", "bob"], null),
        (["--user", "root:rootpw", "user", "delete", "bob"], null),
        (["--user", "root:rootpw", "auth", "disable"], null),
        (["auth", "disable"], null),
        (["get", "b"], null),
        (["user", "list"], null),
        (["role", "list"], null),
    ];

    /// <summary>The last <c>Error:</c> line (etcdctl also logs its client's retries to stderr).</summary>
    public static string ErrorLine(string stderr) =>
        stderr.Split('\n').LastOrDefault(l => l.StartsWith("Error:", StringComparison.Ordinal))?.Trim() ?? "";
}
