// fsync-bound measurements of Kvorum.Storage, with a plain Stopwatch: BenchmarkDotNet's many iterations
// would take minutes per case on a disk where one fsync costs milliseconds.
//
// Usage: dotnet run -c Release --project bench/Kvorum.Storage.Benchmarks -- [--dir PATH] [--seconds N] [--recovery-mb N]
//        [--cases raw,raw2,wal1,wal64] [--repeat N] [--warmup SECONDS]
//        [--preallocate true|false]
// --recovery-mb 0 skips the recovery case; --cases picks throughput cases (default raw,wal1,wal64; raw2 is the
// raw loop on two threads at once, to show how far the device overlaps concurrent fsyncs of one file).
using System.Diagnostics;
using System.Globalization;
using Kvorum.Raft;
using Kvorum.Storage;

var dir = Path.Combine(Path.GetTempPath(), "kvorum-storage-bench");
var seconds = 3.0;
var recoveryMb = 1024;
var cases = new[] { "raw", "wal1", "wal64" };
var repeat = 1;
var warmupSeconds = 1.0;
var preallocate = new StorageOptions { DataDirectory = dir }.PreallocateSegments;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--dir": dir = args[i + 1]; break;
        case "--seconds": seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--recovery-mb": recoveryMb = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--cases": cases = args[i + 1].Split(','); break;
        case "--repeat": repeat = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--warmup": warmupSeconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--preallocate": preallocate = bool.Parse(args[i + 1]); break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}
if (args.Length % 2 != 0)
    throw new ArgumentException($"option {args[^1]} needs a value");
var duration = TimeSpan.FromSeconds(seconds);
var warmup = TimeSpan.FromSeconds(warmupSeconds);
Console.WriteLine($"data dir {dir}, {seconds} s per case after {warmupSeconds} s warm-up (WAL cases), {Environment.ProcessorCount} cores, .NET {Environment.Version}, PreallocateSegments {preallocate}");
Console.WriteLine();
Console.WriteLine("| case | fsyncs/s | entries/s | MB/s | p50 latency | p99 latency |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");

for (var run = 0; run < repeat; run++)
{
    foreach (var name in cases)
    {
        Fresh(dir);
        switch (name)
        {
            case "raw": Report("raw 4 KiB write + fdatasync", RawWriteFsync(dir, 1, duration)); break;
            case "raw2": Report("raw 4 KiB write + fdatasync, 2 threads", RawWriteFsync(dir, 2, duration)); break;
            case "wal1": Report("WAL, 1 writer, 256 B entries", await Wal(dir, preallocate, 1, 256, warmup, duration)); break;
            case "wal64": Report("WAL, 64 writers, 256 B entries", await Wal(dir, preallocate, 64, 256, warmup, duration)); break;
            default: throw new ArgumentException($"unknown case {name}");
        }
    }
}

if (recoveryMb > 0)
{
    Fresh(dir);
    var (recovery, size) = RecoveryOf(dir, recoveryMb);
    Console.WriteLine();
    Console.WriteLine($"recovery of a {size / (1024.0 * 1024):F0} MiB log ({recovery.Segments} segments, {recovery.Records} records): " +
        $"{recovery.Elapsed.TotalSeconds:F2} s ({size / recovery.Elapsed.TotalSeconds / 1e6:F0} MB/s)");
}
Fresh(dir);
Directory.Delete(dir);

static void Fresh(string dir)
{
    if (Directory.Exists(dir))
        Directory.Delete(dir, recursive: true);
    Directory.CreateDirectory(dir);
}

static void Report(string name, Result r) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {r.Fsyncs / r.Seconds:F0} | {r.Entries / r.Seconds:F0} | {r.Bytes / r.Seconds / 1e6:F2} | {Percentile(r.Latencies, 0.50):F2} ms | {Percentile(r.Latencies, 0.99):F2} ms |"));

static double Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

// Each thread appends 4 KiB blocks at offsets it reserves and fdatasyncs after each one.
static Result RawWriteFsync(string dir, int threads, TimeSpan duration)
{
    var block = new byte[4096];
    Random.Shared.NextBytes(block);
    var perThread = new List<double>[threads];
    using var handle = File.OpenHandle(Path.Combine(dir, "raw.dat"), FileMode.CreateNew, FileAccess.Write);
    long offset = 0;
    var clock = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
    {
        var mine = perThread[t] = [];
        while (clock.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            RandomAccess.Write(handle, block, Interlocked.Add(ref offset, block.Length) - block.Length);
            RandomAccess.FlushToDisk(handle);
            mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    })).ToList();
    workers.ForEach(w => w.Start());
    workers.ForEach(w => w.Join());
    var elapsed = clock.Elapsed.TotalSeconds;
    var latencies = perThread.SelectMany(l => l).Order().ToList();
    return new Result(elapsed, latencies.Count, latencies.Count, offset, latencies);
}

// The writers run for `warmup` first, unmeasured, so that the JIT has compiled the append path at its final
// tier and the thread pool has its threads; then appends started during `duration` are measured.
static async Task<Result> Wal(string dir, bool preallocate, int writers, int entrySize, TimeSpan warmup, TimeSpan duration)
{
    using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir, PreallocateSegments = preallocate });
    var payload = new byte[entrySize];
    Random.Shared.NextBytes(payload);
    var perWriter = new List<double>[writers];
    var phase = 0; // 0 warm-up, 1 measuring, 2 stopping
    var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        var mine = perWriter[w] = [];
        while (true)
        {
            var measured = Volatile.Read(ref phase);
            if (measured == 2)
                break;
            var start = Stopwatch.GetTimestamp();
            await storage.AppendAsync(1, payload);
            if (measured == 1)
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    })).ToList();
    await Task.Delay(warmup);
    var fsyncsBefore = storage.FsyncCount;
    var commitsBefore = storage.CommitCount;
    var clock = Stopwatch.StartNew();
    Volatile.Write(ref phase, 1);
    await Task.Delay(duration);
    Volatile.Write(ref phase, 2);
    await Task.WhenAll(tasks);
    var elapsed = clock.Elapsed.TotalSeconds;
    var latencies = perWriter.SelectMany(l => l).Order().ToList();
    var fsyncs = storage.FsyncCount - fsyncsBefore;
    var commits = storage.CommitCount - commitsBefore;
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"({writers} writers: {commits} group commits, {fsyncs} fsyncs, {latencies.Count / (double)Math.Max(1, commits):F1} entries per commit)"));
    return new Result(elapsed, storage.FsyncCount - fsyncsBefore, latencies.Count, (long)latencies.Count * entrySize, latencies);
}

static (RecoveryReport Report, long Size) RecoveryOf(string dir, int megabytes)
{
    const int entrySize = 4096, perBatch = 256;
    var payload = new byte[entrySize];
    Random.Shared.NextBytes(payload);
    var total = (long)megabytes * 1024 * 1024 / entrySize;
    using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir }))
    {
        var batch = new Entry[perBatch];
        for (ulong next = 1; next <= (ulong)total; next += perBatch)
        {
            for (var i = 0; i < perBatch; i++)
                batch[i] = new Entry(next + (ulong)i, 1, payload);
            storage.Save(null, batch);
        }
    }
    var size = Directory.GetFiles(Path.Combine(dir, "wal")).Sum(f => new FileInfo(f).Length);
    // Evict the segments from the page cache (posix_fadvise DONTNEED on these files only), so that
    // recovery reads from the disk rather than from memory.
    var evicted = Directory.GetFiles(Path.Combine(dir, "wal")).All(PageCache.Evict);
    Console.Error.WriteLine(evicted ? "(segments evicted from the page cache)" : "(eviction failed: warm cache)");
    using var reopened = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dir });
    if (reopened.LastIndex != (ulong)total)
        throw new InvalidOperationException($"recovered {reopened.LastIndex} entries, expected {total}");
    return (reopened.Recovery, size);
}

internal sealed record Result(double Seconds, long Fsyncs, long Entries, long Bytes, List<double> Latencies);

internal static partial class PageCache
{
    private const int PosixFadvDontNeed = 4;

    public static bool Evict(string path)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        return Fadvise((int)handle.DangerousGetHandle(), 0, 0, PosixFadvDontNeed) == 0;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(int fd, long offset, long length, int advice);
}
