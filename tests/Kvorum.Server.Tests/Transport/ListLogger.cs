using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Tests.Transport;

/// <summary>A thread-safe logger that keeps every formatted line with its level.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<(LogLevel Level, string Text)> _lines = [];

    public (LogLevel Level, string Text)[] Lines { get { lock (_lock) return [.. _lines]; } }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lock) _lines.Add((logLevel, formatter(state, exception)));
    }
}
