namespace Kvorum.Cli.Bench;

/// <summary>
/// What <c>kvorum bench watch</c> does: how many watchers on how many streams and keys, and the rate of the puts
/// that feed them.
/// </summary>
internal sealed record WatchBenchSettings
{
    /// <summary>The endpoints; stream <c>i</c> goes over connection <c>i % conns</c>, connection <c>c</c> to endpoint <c>c % count</c>; the puts go to the first.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Watchers in all (<c>--watchers</c>), each on one key.</summary>
    public int Watchers { get; init; } = 1000;

    /// <summary>Watch streams the watchers share (<c>--streams</c>); watcher <c>i</c> is on stream <c>i % streams</c>.</summary>
    public int Streams { get; init; } = 10;

    /// <summary>gRPC connections the streams share (<c>--conns</c>).</summary>
    public int Conns { get; init; } = 1;

    /// <summary>Distinct watched keys (<c>--keys</c>); watcher <c>i</c> watches key <c>i % keys</c>, and puts go round the keys.</summary>
    public int Keys { get; init; } = 10;

    /// <summary>Puts per second, sent on a fixed schedule whatever the answers (<c>--put-rate</c>); 0 holds the watchers idle.</summary>
    public int PutRate { get; init; } = 100;

    /// <summary>How long the puts go on, or the watchers stay idle (<c>--duration</c>).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long to run the same watchers and puts first, unmeasured (<c>--warmup</c>); null for none. A .NET member
    /// compiles its watch and put paths in its first seconds of that load, and a fresh member measured at once spends
    /// a share of the measured time compiling them.
    /// </summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary>How long the watchers stay open and idle before the puts start (<c>--idle</c>), e.g. to sample memory.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.Zero;

    /// <summary>Value length in bytes (<c>--value-size</c>), at least the 8 bytes of the send time it carries.</summary>
    public int ValueSize { get; init; } = 256;

    /// <summary>Puts in flight at most; past it the schedule slips and the achieved rate says so.</summary>
    public int MaxPutsInFlight { get; init; } = 256;

    /// <summary>How long to wait after the last put for its events.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS of https endpoints (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>); null for the system's defaults.</summary>
    public Client.ClientTls? Tls { get; init; }

    /// <summary>The user the requests are made as (<c>--user</c>); null for none.</summary>
    public Client.ClientCredentials? Credentials { get; init; }

    /// <summary>How long to wait for a TCP connection.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of each put, and of opening all watchers (per thousand watchers).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the settings against each other.</summary>
    /// <exception cref="UsageException">A value is out of range or two contradict each other.</exception>
    public void Validate()
    {
        if (Watchers < 1)
            throw new UsageException($"--watchers must be at least 1, got {Watchers}");
        if (Streams < 1)
            throw new UsageException($"--streams must be at least 1, got {Streams}");
        if (Streams > Watchers)
            throw new UsageException($"--streams ({Streams}) must not exceed --watchers ({Watchers})");
        if (Conns < 1)
            throw new UsageException($"--conns must be at least 1, got {Conns}");
        if (Conns > Streams)
            throw new UsageException($"--conns ({Conns}) must not exceed --streams ({Streams})");
        if (Keys < 1)
            throw new UsageException($"--keys must be at least 1, got {Keys}");
        if (PutRate < 0)
            throw new UsageException($"--put-rate must not be negative, got {PutRate}");
        if (ValueSize < sizeof(long))
            throw new UsageException($"--value-size must be at least {sizeof(long)} (the send time it carries), got {ValueSize}");
    }

    /// <summary>How many watchers watch key number <paramref name="key"/>.</summary>
    public int WatchersOf(int key) => (Watchers / Keys) + (key < Watchers % Keys ? 1 : 0);
}
