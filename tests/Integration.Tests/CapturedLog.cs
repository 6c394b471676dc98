using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Streaming.Integration.Tests;

/// <summary>Keeps the warnings and errors of in-process silos, one line each, so that a failing test can say what the
/// silos said (the test cluster's own log has only its own lines).</summary>
sealed class CapturedLog : ILoggerProvider
{
    readonly ConcurrentQueue<string> lines = new();

    public ILogger CreateLogger(string category) => new Logger(this, category);

    /// <summary>The lines that contain <paramref name="text"/>.</summary>
    public IReadOnlyList<string> Containing(string text) => [.. lines.Where(l => l.Contains(text, StringComparison.Ordinal))];

    /// <summary>The last <paramref name="count"/> lines, newest last.</summary>
    public string Tail(int count) => string.Join('\n', lines.TakeLast(count));

    public void Dispose() { }

    sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(level)) return;
            var error = exception is null ? "" : $" [{exception.GetType().Name}: {exception.Message.Split('\n')[0]}]";
            log.lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {level} {category}: {formatter(state, exception).Split('\n')[0]}{error}");
        }
    }
}
