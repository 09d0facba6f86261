using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kvorum.Tests.Fuzzing;

/// <summary>
/// Runs a decoder's property over seeded inputs (<see cref="ByteMutations"/>): each input must be decoded or refused
/// with the decoder's documented exception (the target throws anything else), within <see cref="CaseTimeout"/>, and
/// without allocating far beyond its size. A failure names the case's seed and the command that replays it alone.
/// </summary>
/// <remarks>
/// <c>KVORUM_FUZZ_CASES</c> sets the number of cases per test (a small default keeps the suite short; long runs
/// belong to <c>fuzz/run.sh</c>); <c>KVORUM_FUZZ_SEED</c> sets the first case's seed, so that with one case it
/// replays exactly the input a failure printed.
/// </remarks>
internal static class FuzzRun
{
    /// <summary>How long one input may take before it counts as a hang.</summary>
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Cases per test when <c>KVORUM_FUZZ_CASES</c> is not set.</summary>
    public const int DefaultCases = 300;

    /// <summary>Bytes a case may allocate besides this many per input byte (a fixed cost: the parser, the store).</summary>
    public const long AllocationBase = 16L << 20;

    /// <summary>Runs <paramref name="target"/> over the inputs made from <paramref name="valid"/>.</summary>
    /// <param name="valid">Valid encodings to mutate.</param>
    /// <param name="target">The property; throws on a violation.</param>
    /// <param name="testClass">The test's class, for the replay command.</param>
    /// <param name="test">The test's method, for the replay command.</param>
    /// <param name="allocationPerByte">Bytes a case may allocate per byte of input.</param>
    /// <param name="cases">Cases to run; <c>KVORUM_FUZZ_CASES</c> or <see cref="DefaultCases"/> when null.</param>
    public static void Check(IReadOnlyList<byte[]> valid, Action<byte[]> target, Type testClass, [CallerMemberName] string test = "",
        long allocationPerByte = 64, int? cases = null)
    {
        ArgumentNullException.ThrowIfNull(testClass);
        var testProject = testClass.Assembly.GetName().Name;
        var testName = $"{testClass.FullName}.{test}";
        var count = cases ?? EnvInt("KVORUM_FUZZ_CASES") ?? DefaultCases;
        var firstSeed = EnvInt("KVORUM_FUZZ_SEED") ?? StableSeed(testName);
        // The cases run on a thread of their own, so that a hang is reported with its seed rather than stopping the
        // suite; one thread for all of them, as the thread pool is busy with the other tests.
        var current = new CaseInProgress();
        string? failure = null;
        string? hang = null;
        var worker = new Thread(() =>
        {
            for (var i = 0; i < count && failure is null; i++)
            {
                var seed = unchecked(firstSeed + i);
                current.Start(seed, []);
                var input = ByteMutations.Next(new Random(seed), valid);
                current.Start(seed, input);
                failure = RunOne(input, target, allocationPerByte);
            }
            current.Finish();
        }, maxStackSize: 16 << 20)
        { IsBackground = true, Name = "fuzz " + testName };
        worker.Start();
        while (!worker.Join(TimeSpan.FromMilliseconds(200)))
        {
            if (current.Elapsed > CaseTimeout)
            {
                hang = $"no answer after {CaseTimeout.TotalSeconds:0} s (a hang)";
                break;
            }
        }
        failure = hang ?? failure;
        if (failure is not null)
        {
            var (seed, input) = current.Last;
            Assert.Fail($"{failure}\n  input ({input.Length} bytes): {Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 512)))}"
                + $"\n  seed {seed}; replay: KVORUM_FUZZ_SEED={seed} KVORUM_FUZZ_CASES=1 dotnet test tests/{testProject} --filter \"FullyQualifiedName={testName}\"");
        }
    }

    /// <summary>Runs one input on the calling thread; returns what went wrong, or null.</summary>
    public static string? RunOne(byte[] input, Action<byte[]> target, long allocationPerByte)
    {
        ArgumentNullException.ThrowIfNull(target);
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target(input);
        }
        catch (Exception e)
        {
            return $"threw {e}";
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var limit = AllocationBase + allocationPerByte * input.Length;
        return allocated > limit ? $"allocated {allocated} bytes, more than {limit} for {input.Length} bytes of input" : null;
    }

    /// <summary>The case the worker is on, and since when; read by the test's thread to spot a hang.</summary>
    private sealed class CaseInProgress
    {
        private readonly Lock _lock = new();
        private readonly Stopwatch _clock = new();
        private int _seed;
        private byte[] _input = [];
        private bool _done;

        public (int Seed, byte[] Input) Last
        {
            get
            {
                lock (_lock)
                    return (_seed, _input);
            }
        }

        public TimeSpan Elapsed
        {
            get
            {
                lock (_lock)
                    return _done ? TimeSpan.Zero : _clock.Elapsed;
            }
        }

        public void Start(int seed, byte[] input)
        {
            lock (_lock)
            {
                _seed = seed;
                _input = input;
                _clock.Restart();
            }
        }

        public void Finish()
        {
            lock (_lock)
                _done = true;
        }
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var value) ? value : null;

    /// <summary>A seed that depends only on the test's name (string.GetHashCode changes per process).</summary>
    private static int StableSeed(string name)
    {
        var hash = 17;
        foreach (var c in name)
            hash = unchecked(hash * 31 + c);
        return hash & 0x7fffffff;
    }
}
