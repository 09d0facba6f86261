using System.Globalization;
using Kvorum.Etcd.Serve;

namespace Kvorum.Lab;

/// <summary>
/// <c>--pace N</c> of <c>kvorum lab up</c> and <c>kvorum cluster up</c>: every member's heartbeat interval and
/// election timeout multiplied by N, through the serve flags that set them, so that a person watching can follow
/// each election and heartbeat. The ratio of the two, and so every argument about timeouts, stays the same.
/// </summary>
internal static class Pace
{
    /// <summary>The heartbeat interval a member uses when none is given (serve's default).</summary>
    public const int DefaultHeartbeatMs = 100;

    /// <summary>The election timeout a member uses when none is given (serve's default).</summary>
    public const int DefaultElectionTimeoutMs = 1000;

    /// <summary>The largest pace: a heartbeat of 100 s is already past watching.</summary>
    public const int Max = 1000;

    /// <summary>The settings of <paramref name="serve"/> slowed down <paramref name="pace"/> times.</summary>
    /// <param name="serve">The shared serve settings (null timeouts mean serve's defaults).</param>
    /// <param name="pace">The factor, 1..<see cref="Max"/>; 1 leaves the settings as they are.</param>
    /// <returns>The settings with both timeouts multiplied.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The pace is out of range; <see cref="Check"/> says so in a user's words.</exception>
    public static ServeArguments Apply(ServeArguments serve, int pace)
    {
        ArgumentNullException.ThrowIfNull(serve);
        ArgumentOutOfRangeException.ThrowIfLessThan(pace, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pace, Max);
        if (pace == 1)
            return serve;
        return serve with
        {
            HeartbeatIntervalMs = (serve.HeartbeatIntervalMs ?? DefaultHeartbeatMs) * pace,
            ElectionTimeoutMs = (serve.ElectionTimeoutMs ?? DefaultElectionTimeoutMs) * pace,
        };
    }

    /// <summary>Null when <paramref name="pace"/> is allowed, else the one line that says why not.</summary>
    /// <param name="pace">The factor given.</param>
    public static string? Check(int pace) =>
        pace is >= 1 and <= Max ? null : string.Create(CultureInfo.InvariantCulture, $"--pace must be a whole number from 1 to {Max}, got {pace}");

    /// <summary>One line for status: the pace and the timeouts it gives.</summary>
    /// <param name="serve">The settings after <see cref="Apply"/>.</param>
    /// <param name="pace">The factor.</param>
    /// <returns>e.g. <c>pace 10: heartbeat 1000 ms, election timeout 10000 ms</c>.</returns>
    public static string Describe(ServeArguments serve, int pace)
    {
        ArgumentNullException.ThrowIfNull(serve);
        return string.Create(CultureInfo.InvariantCulture,
            $"pace {pace}: heartbeat {serve.HeartbeatIntervalMs ?? DefaultHeartbeatMs} ms, election timeout {serve.ElectionTimeoutMs ?? DefaultElectionTimeoutMs} ms");
    }
}
