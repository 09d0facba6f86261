using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// Memory comes back: a member of its own (nothing else runs against it, whatever other tests do) is grown by clients
/// that open full-range reads and never read the answers, and must give that memory back to the system once they have
/// gone (<c>IdleMemoryReturn</c> and <c>RetentionBoundedMemoryPool</c>). A busy machine only makes it slower: the
/// member collects on the first 5 s interval after the readers in which it allocated little, whenever that comes.
/// </summary>
public sealed class MemoryReturnTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the member has, after the readers leave, to come down: two or three of its 5 s looks (the first may
    /// still see the readers' last allocations), with room for a loaded machine.
    /// </summary>
    private static readonly TimeSpan ReturnWithin = TimeSpan.FromSeconds(30);

    /// <summary>How far above its level before the readers the member may stay.</summary>
    private const long Returned = 96L << 20;

    /// <summary>Readers of the whole keyspace: with the default budget, about 30 of their answers are held.</summary>
    private const int Readers = 40;

    /// <summary>What the readers must grow the member by for the test to mean something.</summary>
    private const long Grown = 160L << 20;

    // The default budget of unread answers (256 MiB), so that the readers grow the member well beyond its data.
    private readonly HostileMember _member = new(unreadBudgetBytes: null);

    public Task InitializeAsync() => _member.InitializeAsync();

    public Task DisposeAsync() => _member.DisposeAsync();

    [Fact]
    public async Task A_member_grown_by_clients_that_never_read_gives_the_memory_back_once_they_have_gone()
    {
        await _member.WriteBigKeysAsync(Bound);
        var before = _member.ResidentBytes();

        var readers = new List<RawHttp2Connection>();
        long peak;
        try
        {
            for (var r = 0; r < Readers; r++)
            {
                var reader = await RawHttp2Connection.OpenAsync(_member.ClientPort);
                readers.Add(reader);
                await reader.CallAsync("/etcdserverpb.KV/Range", new RangeRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) }, endStream: true);
            }
            // The answers are built and written as the member gets to them; a busy machine makes that slower.
            var opened = Stopwatch.StartNew();
            peak = _member.ResidentBytes();
            while (peak - before < Grown && opened.Elapsed < Bound * 6)
            {
                await Task.Delay(250);
                peak = Math.Max(peak, _member.ResidentBytes());
            }
            await _member.ServesAsync(Bound);
            peak = Math.Max(peak, _member.ResidentBytes());
        }
        finally
        {
            foreach (var r in readers)
                r.Dispose();
        }
        output.WriteLine($"RSS {before >> 20} MiB with 8 MiB of data, {peak >> 20} MiB with {Readers} unread full-range reads");
        // Otherwise there would be nothing to give back, and the test would prove nothing.
        Assert.True(peak - before >= Grown, $"the readers grew the member by only {(peak - before) >> 20} MiB");

        var gone = Stopwatch.StartNew();
        var now = _member.ResidentBytes();
        while (now - before > Returned)
        {
            Assert.True(gone.Elapsed < ReturnWithin,
                $"RSS still {(now - before) >> 20} MiB above its level before the readers ({(peak - before) >> 20} MiB at the peak), {gone.Elapsed.TotalSeconds:F0} s after they left");
            await Task.Delay(250);
            now = _member.ResidentBytes();
        }
        output.WriteLine($"RSS {now >> 20} MiB, within {Returned >> 20} MiB of its level before the readers, {gone.Elapsed.TotalSeconds:F1} s after they left");
        await _member.ServesAsync(Bound);
    }
}
