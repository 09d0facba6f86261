using System.Globalization;

namespace Kvorum.Cli.Bench;

/// <summary>What <c>kvorum bench</c> does: which requests, how many clients and connections, for how long.</summary>
internal sealed record BenchSettings
{
    /// <summary><c>put</c> or <c>range</c>.</summary>
    public required BenchKind Kind { get; init; }

    /// <summary>The endpoints; connection <c>i</c> goes to endpoint <c>i % count</c>.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Concurrent clients, each with one request in flight (<c>--clients</c>).</summary>
    public int Clients { get; init; } = 1;

    /// <summary>gRPC connections the clients share (<c>--conns</c>).</summary>
    public int Conns { get; init; } = 1;

    /// <summary>Requests to send in all (<c>--total</c>); null when running for <see cref="Duration"/>.</summary>
    public long? Total { get; init; }

    /// <summary>How long to run (<c>--duration</c>); null when sending <see cref="Total"/> requests.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>
    /// How long to send the same load before measuring (<c>--warmup</c>); null for none. The load generator is a
    /// .NET process that compiles its hot paths in its first seconds, taking CPU from the servers it measures.
    /// </summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary>Keys are drawn uniformly from this many (<c>--key-space</c>).</summary>
    public long KeySpace { get; init; } = 100_000;

    /// <summary>Key length in bytes (<c>--key-size</c>): the key number, zero-padded.</summary>
    public int KeySize { get; init; } = 8;

    /// <summary>Value length in bytes (<c>--value-size</c>).</summary>
    public int ValueSize { get; init; } = 256;

    /// <summary>The TTL of the leases the lease benchmarks grant, in seconds (<c>--ttl</c>).</summary>
    public long LeaseTtlSeconds { get; init; } = 600;

    /// <summary>Serializable (member-local) reads instead of linearizable ones.</summary>
    public bool Serializable { get; init; }

    /// <summary>TLS of https endpoints (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>); null for the system's defaults.</summary>
    public Client.ClientTls? Tls { get; init; }

    /// <summary>The user the requests are made as (<c>--user</c>); null for none.</summary>
    public Client.ClientCredentials? Credentials { get; init; }

    /// <summary>How long to wait for a TCP connection.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of each request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the settings against each other.</summary>
    /// <exception cref="UsageException">A value is out of range or two contradict each other.</exception>
    public void Validate()
    {
        if (Clients < 1)
            throw new UsageException($"--clients must be at least 1, got {Clients}");
        if (Conns < 1)
            throw new UsageException($"--conns must be at least 1, got {Conns}");
        if (Conns > Clients)
            throw new UsageException($"--conns ({Conns}) must not exceed --clients ({Clients})");
        if (Total is not null && Duration is not null)
            throw new UsageException("--total and --duration cannot be used together");
        if (Total is < 1)
            throw new UsageException($"--total must be at least 1, got {Total}");
        if (LeaseTtlSeconds < 1)
            throw new UsageException($"--ttl must be at least 1, got {LeaseTtlSeconds}");
        if (KeySpace < 1)
            throw new UsageException($"--key-space must be at least 1, got {KeySpace}");
        if (KeySize < 1)
            throw new UsageException($"--key-size must be at least 1, got {KeySize}");
        if (ValueSize < 0)
            throw new UsageException($"--value-size must not be negative, got {ValueSize}");
        var digits = (KeySpace - 1).ToString(CultureInfo.InvariantCulture).Length;
        if (KeySize < digits)
            throw new UsageException($"--key-size {KeySize} is too small for --key-space {KeySpace} (needs {digits})");
    }

    /// <summary>The key for key number <paramref name="n"/>: its decimal digits, zero-padded to <see cref="KeySize"/>.</summary>
    /// <param name="n">A number in [0, <see cref="KeySpace"/>).</param>
    /// <returns>The key text.</returns>
    public string KeyOf(long n) => n.ToString(CultureInfo.InvariantCulture).PadLeft(KeySize, '0');
}

/// <summary>The request a benchmark sends.</summary>
internal enum BenchKind
{
    /// <summary>KV.Put of a random key.</summary>
    Put,

    /// <summary>KV.Range of a random single key.</summary>
    Range,

    /// <summary>Lease.LeaseGrant of a new lease.</summary>
    LeaseGrant,

    /// <summary>One renewal over a client's Lease.LeaseKeepAlive stream.</summary>
    LeaseKeepAlive,
}

/// <summary>The names <see cref="BenchKind"/> goes by on the command line and in summaries.</summary>
internal static class BenchKindNames
{
    /// <summary>The subcommand's name: <c>put</c>, <c>range</c>, <c>lease-grant</c>, <c>lease-keepalive</c>.</summary>
    public static string CommandName(this BenchKind kind) => kind switch
    {
        BenchKind.LeaseGrant => "lease-grant",
        BenchKind.LeaseKeepAlive => "lease-keepalive",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
