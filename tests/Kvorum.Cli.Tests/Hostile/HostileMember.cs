using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Serve;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>The tests that misbehave against one shared member run one at a time: each measures its memory.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileMemberGroup : ICollectionFixture<HostileMember>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "hostile member";
}

/// <summary>
/// One real <c>kvorum serve</c> process for the misbehaving-client tests: a plaintext client URL, an https one
/// (<c>--auto-tls</c>) and a peer URL, with a small budget of unread answers (<see cref="UnreadBudgetBytes"/>). A well-behaved client checks between and during the abuse that puts and gets
/// still answer; the member's resident memory is read from <c>/proc</c>.
/// </summary>
public sealed class HostileMember : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-hostile-" + Guid.NewGuid().ToString("N"));
    private readonly StringWriterLog _log = new();
    private readonly long? _unreadBudgetBytes;
    private Process? _process;
    private GrpcChannel? _channel;
    private GrpcChannel? _tlsChannel;

    /// <summary>The member's budget of unread answers: room for three full-range answers of the unread-range test.</summary>
    public const long UnreadBudgetBytes = 32L << 20;

    /// <summary>A member with the small budget of unread answers, <see cref="UnreadBudgetBytes"/>.</summary>
    public HostileMember()
        : this(UnreadBudgetBytes)
    {
    }

    /// <summary>A member with <paramref name="unreadBudgetBytes"/> of unread answers; null: the default.</summary>
    internal HostileMember(long? unreadBudgetBytes) => _unreadBudgetBytes = unreadBudgetBytes;

    /// <summary>The plaintext client port.</summary>
    public int ClientPort { get; } = FreePorts.Next();

    /// <summary>The https client port (a self-signed certificate).</summary>
    public int TlsPort { get; } = FreePorts.Next();

    /// <summary>The peer port.</summary>
    public int PeerPort { get; } = FreePorts.Next();

    /// <summary>What the member printed so far.</summary>
    public string Log => _log.Text;

    /// <summary>A well-behaved client on its own connection.</summary>
    public KV.KVClient Kv => new(_channel!);

    /// <summary>A well-behaved client over TLS, on its own connection.</summary>
    public KV.KVClient TlsKv => new(_tlsChannel!);

    /// <summary>The member's resident set size now, in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process!.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc status");
    }

    /// <summary>Whether the member's process is still running.</summary>
    public bool Running => _process is { HasExited: false };

    /// <summary>
    /// A put and a get of a fresh value through <paramref name="client"/> (the plaintext one by default), each within
    /// <paramref name="bound"/>; fails the test otherwise.
    /// </summary>
    public async Task ServesAsync(TimeSpan bound, KV.KVClient? client = null)
    {
        client ??= Kv;
        var value = Guid.NewGuid().ToString("N");
        var watch = Stopwatch.StartNew();
        await client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("probe"), Value = ByteString.CopyFromUtf8(value) }, deadline: DateTime.UtcNow + bound);
        var got = await client.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("probe") }, deadline: DateTime.UtcNow + bound);
        Assert.Equal(value, got.Kvs.Single().Value.ToStringUtf8());
        Assert.True(watch.Elapsed < 2 * bound, $"a put and a get took {watch.Elapsed}");
    }

    /// <summary>Writes 8 MiB of keys under <c>big/</c> (64 txns of 64 puts of 2 KiB), for reads of everything to be large.</summary>
    public async Task WriteBigKeysAsync(TimeSpan bound)
    {
        var value = ByteString.CopyFrom(new byte[2048]);
        for (var t = 0; t < 64; t++)
        {
            var txn = new TxnRequest();
            for (var i = 0; i < 64; i++)
                txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"big/{t:D3}/{i:D3}"), Value = value } });
            await Kv.TxnAsync(txn, deadline: DateTime.UtcNow + bound);
        }
    }

    /// <summary>Starts the member and waits until a put through it succeeds.</summary>
    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var peer = new Uri($"http://127.0.0.1:{PeerPort}");
        Uri[] clients = [new($"http://127.0.0.1:{ClientPort}"), new($"https://127.0.0.1:{TlsPort}")];
        var serve = new ServeArguments
        {
            Name = "m1",
            DataDir = Path.Combine(_root, "m1"),
            ListenClientUrls = clients,
            AdvertiseClientUrls = clients,
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = [new InitialClusterMember("m1", peer)],
            ExtraFlags = _unreadBudgetBytes is { } budget
                ? [ServeFlags.MaxUnreadResponseBytes, budget.ToString(CultureInfo.InvariantCulture), ServeFlags.AutoTls]
                : [ServeFlags.AutoTls],
        };
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kvorum.dll"));
        foreach (var a in serve.ToArgs())
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start kvorum serve");
        _process.OutputDataReceived += (_, e) => _log.Add(e.Data);
        _process.ErrorDataReceived += (_, e) => _log.Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{ClientPort}");
        _tlsChannel = GrpcChannel.ForAddress($"https://127.0.0.1:{TlsPort}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // --auto-tls: a self-signed certificate, trusted by no one; the channel only needs the encryption.
                SslOptions = { RemoteCertificateValidationCallback = static (_, certificate, _, _) => certificate is not null },
            },
        });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await ServesAsync(TimeSpan.FromSeconds(5));
                return;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline && Running)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Stops the member and removes its data.</summary>
    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        _tlsChannel?.Dispose();
        if (_process is { } p)
        {
            if (!p.HasExited)
                p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            p.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The member's output lines, kept for the assertions on its log.</summary>
    private sealed class StringWriterLog
    {
        private readonly System.Text.StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                    return _text.ToString();
            }
        }

        public void Add(string? line)
        {
            if (line is null)
                return;
            lock (_text)
                _text.AppendLine(line);
        }
    }
}
