using System.Diagnostics;
using System.Text.RegularExpressions;
using CsCheck;
using Xunit.Abstractions;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>How one generated case ended: a correct result, or refused with the library's one-line error.</summary>
internal enum FuzzOutcome { Succeeded, Refused }

/// <summary>
/// Runs one generator's cases through CsCheck (one thread, so the memory peak is this generator's) and tallies their
/// outcomes. A case that ends any other way (another exception, a multi-line message, a hang past
/// <see cref="CaseTimeout"/>) fails the test, and CsCheck shrinks it to a small failing case with a seed to replay.
/// The summary line goes to the test output and, when STREAMING_FUZZ_REPORT names a file, is appended to it
/// (bench/fuzz.sh prints that file).
/// </summary>
internal sealed partial class FuzzRun(string generator, ITestOutputHelper output)
{
    /// <summary>Cases per generator: 1,000 in the normal suite, STREAMING_FUZZ_CASES for the long run.</summary>
    public static long Cases { get; } =
        long.TryParse(Environment.GetEnvironmentVariable("STREAMING_FUZZ_CASES"), out var n) && n > 0 ? n : 1000;

    /// <summary>Longer than any legitimate case takes here (the largest reads a few hundred MiB); a hang is far beyond.</summary>
    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(60);

    private long _succeeded, _refused, _other, _residentBefore;

    public void Sample<T>(Gen<T> gen, Func<T, FuzzOutcome> runCase, Func<T, string> print)
    {
        _residentBefore = PeakMemory.Reset();
        var clock = Stopwatch.StartNew();
        var passed = false;
        try
        {
            gen.Sample(c =>
            {
                FuzzOutcome outcome;
                try
                {
                    outcome = WithTimeout(() => runCase(c));
                }
                catch
                {
                    Interlocked.Increment(ref _other);
                    throw;
                }
                Interlocked.Increment(ref outcome == FuzzOutcome.Succeeded ? ref _succeeded : ref _refused);
            }, iter: Cases, threads: 1, print: print);
            passed = true;
        }
        finally
        {
            Report(clock.Elapsed, passed);
        }
    }

    /// <summary>How far the run's peak working set rose over what the process held before it, in bytes: earlier (and, in
    /// the integration tests, concurrent) tests in the same process hold memory of their own.</summary>
    public long GrowthBytes { get; private set; }

    private void Report(TimeSpan elapsed, bool passed)
    {
        var peak = PeakMemory.Bytes();
        GrowthBytes = peak - _residentBefore;
        var line = $"{generator}: {_succeeded + _refused + _other} cases, {_succeeded} succeeded, {_refused} refused with one line, " +
            $"{_other} other; {elapsed.TotalSeconds:F1} s; peak working set {peak / (1024 * 1024)} MiB (+{GrowthBytes / (1024 * 1024)} MiB){(passed ? "" : " (FAILED, shrinking included)")}";
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("STREAMING_FUZZ_REPORT") is { Length: > 0 } file)
            lock (ReportLock) File.AppendAllText(file, line + Environment.NewLine);
    }

    private static readonly Lock ReportLock = new();

    /// <summary>Runs a case on its own thread; one still running after <see cref="CaseTimeout"/> is a hang.</summary>
    public static T WithTimeout<T>(Func<T> run)
    {
        var task = Task.Factory.StartNew(run, TaskCreationOptions.LongRunning);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CaseTimeout))
            throw new TimeoutException($"the case did not end within {CaseTimeout.TotalSeconds} s (a hang)");
        return task.GetAwaiter().GetResult(); // the case's own exception, not an AggregateException
    }

    /// <summary>Asserts that <paramref name="message"/> is one line fit to print as a CLI error: no line break, no stack trace.</summary>
    public static void AssertOneLine(string message)
    {
        Assert.False(string.IsNullOrWhiteSpace(message), "the error message is empty");
        Assert.False(message.Contains('\n') || message.Contains('\r'), $"the error message is not one line: {message}");
        Assert.False(StackFrame().IsMatch(message), $"the error message holds stack trace text: {message}");
    }

    [GeneratedRegex(@"\bat [\w.`<>]+\(")]
    private static partial Regex StackFrame();
}
