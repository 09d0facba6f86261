using System.CommandLine;
using Kvorum.Etcd.Serve;
using Kvorum.Lab;

namespace Kvorum.Cli.Lab;

/// <summary>The <c>--pace N</c> option of <c>lab up</c> and <c>cluster up</c> (<see cref="Pace"/> does the arithmetic).</summary>
internal static class PaceOption
{
    /// <summary>A fresh <c>--pace</c> option, 1 unless given.</summary>
    public static Option<int> Create() => new("--pace")
    {
        Description = "Slow the members down N times: heartbeat interval and election timeout multiplied by N, so that a person can follow each message (default 1).",
        DefaultValueFactory = _ => 1,
    };

    /// <summary>The serve settings slowed down <paramref name="pace"/> times.</summary>
    /// <param name="serve">The settings without pace.</param>
    /// <param name="pace">The value of <c>--pace</c>.</param>
    /// <exception cref="UsageException">The pace is out of range.</exception>
    public static ServeArguments Apply(ServeArguments serve, int pace)
    {
        if (Pace.Check(pace) is { } error)
            throw new UsageException(error);
        return Pace.Apply(serve, pace);
    }

    /// <summary>The lab options slowed down <paramref name="pace"/> times, waiting for the first leader as much longer.</summary>
    /// <param name="options">The options without pace.</param>
    /// <param name="pace">The value of <c>--pace</c>.</param>
    /// <exception cref="UsageException">The pace is out of range.</exception>
    public static LabOptions Apply(LabOptions options, int pace)
    {
        ArgumentNullException.ThrowIfNull(options);
        return pace == 1 ? options : options with
        {
            Serve = Apply(options.Serve, pace),
            Pace = pace,
            LeaderTimeout = options.LeaderTimeout * pace,
        };
    }
}
