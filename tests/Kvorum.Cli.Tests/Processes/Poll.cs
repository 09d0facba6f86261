namespace Kvorum.Cli.Tests.Processes;

/// <summary>Waiting for a condition that other tasks make true, checked every 50 ms.</summary>
internal static class Poll
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws, naming <paramref name="what"/>, after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not {what} within {timeout}");
            await Task.Delay(50);
        }
    }
}
