using System.Collections.Concurrent;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A thread standing in for a running member loop: it binds <see cref="Owner"/>, runs what <see cref="Run{T}"/> hands
/// it until disposed, then releases the owner. While it runs, the test's own thread is "another thread" to whatever
/// the owner guards.
/// </summary>
internal sealed class LoopThread : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public LoopThread()
    {
        using var bound = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            Owner.Bind();
            bound.Set();
            foreach (var work in _work.GetConsumingEnumerable())
                work();
            Owner.Release();
        })
        { IsBackground = true, Name = "test-loop" };
        _thread.Start();
        Assert.True(bound.Wait(TimeSpan.FromSeconds(10)), "the loop thread did not start");
    }

    /// <summary>The owner the thread has bound.</summary>
    public LoopOwner Owner { get; } = new();

    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result (or throws its exception).</summary>
    public T Run<T>(Func<T> work)
    {
        var answer = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                answer.SetResult(work());
            }
            catch (Exception e)
            {
                answer.SetException(e);
            }
        });
        return answer.Task.WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    /// <summary>
    /// Checks that <paramref name="change"/>, run on the loop thread, passes, and run on the test's thread while the
    /// loop runs, is refused in a debug build (the check is compiled out of a release build).
    /// </summary>
    public static void AssertOnlyTheLoopMay(Action<LoopOwner> change)
    {
        using var loop = new LoopThread();
        loop.Run(() =>
        {
            change(loop.Owner);
            return 0;
        });
#if DEBUG
        var error = Assert.Throws<InvalidOperationException>(() => change(loop.Owner));
        Assert.Contains("'test-loop'", error.Message, StringComparison.Ordinal);
#endif
    }
}
