using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Streaming.Training.Data;
using Xunit.Abstractions;

namespace Streaming.Integration.Tests;

/// <summary>
/// `streaming watch`: files arriving in a folder one after another become the run's tasks in that order, each once,
/// across a silo restart and a watcher restart; a queued file rewritten is reported, not trained again.
/// </summary>
public sealed class WatchTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Seconds between the files' arrivals (bench/watch.sh: 60); none in CI.</summary>
    static readonly TimeSpan Gap = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("STREAMING_WATCH_GAP_SECONDS") ?? "0",
        System.Globalization.CultureInfo.InvariantCulture));

    readonly string data = Directory.CreateTempSubdirectory("streaming-watch-").FullName;
    readonly List<Watcher> watchers = [];

    public void Dispose()
    {
        foreach (var watcher in watchers) watcher.Stop();
        Directory.Delete(data, recursive: true);
    }

    Watcher Watch(int gateway, string run, string folder)
    {
        var watcher = new Watcher(gateway, run, folder);
        watchers.Add(watcher);
        return watcher;
    }

    [Fact]
    public async Task FilesArrivingOneAfterAnotherBecomeTasksInOrderOnceAcrossRestarts()
    {
        const string run = "watched";
        var inbox = Directory.CreateDirectory(Path.Combine(data, "inbox")).FullName;
        var lines = File.ReadAllLines(SampleCorpora.File("english"));
        await using var silo = new SiloProcess(Path.Combine(data, "silo"));
        await silo.StartAsync();

        var watcher = Watch(silo.Gateway, run, inbox);
        var arrived = Stopwatch.StartNew();
        Arrive(inbox, "one.jsonl", lines.Take(4));
        await watcher.WaitForLine("queued one.jsonl");

        // The silo restarts while the second file arrives: the watcher waits for it and sends the file once it is back.
        await Task.Delay(Gap - arrived.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        await silo.StopAsync();
        arrived.Restart();
        Arrive(inbox, "two.jsonl", lines.Skip(4).Take(4));
        await watcher.WaitForLine("cannot send two.jsonl");
        await silo.StartAsync();
        await watcher.WaitForLine("queued two.jsonl");

        // The watcher restarts while the third arrives: it sends only the new file.
        var earlier = watcher.Stop();
        await Task.Delay(Gap - arrived.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
        Arrive(inbox, "three.jsonl", lines.Skip(8).Take(4));
        watcher = Watch(silo.Gateway, run, inbox);
        await watcher.WaitForLine("queued three.jsonl");

        // A queued file rewritten is said, not sent again.
        File.AppendAllLines(Path.Combine(inbox, "one.jsonl"), lines.Skip(12).Take(1));
        await watcher.WaitForLine("one.jsonl changed after it was queued");
        var status = await silo.WaitUntilSettledAsync(run);
        var later = watcher.Stop();

        var corpora = status["corpora"]!.AsArray();
        Assert.Equal(["one", "two", "three"], corpora.Select(c => (string)c!["name"]!));
        Assert.All(corpora, c => Assert.Equal((long)c!["tokensTotal"]!, (long)c["tokensRead"]!));
        Assert.Equal(["one", "two", "three"], status["evaluations"]!.AsArray().Select(e => (string)e!["afterTask"]!));
        var said = earlier + "\n" + later;
        output.WriteLine(said);
        output.WriteLine(string.Join('\n', corpora.Select(c => $"task {c!["name"]}: {(long)c["tokensRead"]!:N0} of {(long)c["tokensTotal"]!:N0} tokens trained")));
        foreach (var file in new[] { "one", "two", "three" }) Assert.Single(Lines(said, $"queued {file}.jsonl"));
        Assert.DoesNotContain("already queued", said);
    }

    [Fact]
    public void WatchingOncePassesOverPartialFilesAndSaysEachProblemInOneLine()
    {
        var inbox = Directory.CreateDirectory(Path.Combine(data, "once")).FullName;
        var missing = Executables.Run(Executables.Client, $"watch --run r {Path.Combine(data, "nope")} --once");
        Assert.Equal(2, missing.Code);
        Assert.Equal($"error: folder not found: {Path.Combine(data, "nope")}", missing.Err.Trim());

        File.WriteAllText(Path.Combine(inbox, ".hidden.txt"), "not a corpus yet");
        File.WriteAllText(Path.Combine(inbox, "partial.txt.part"), "still downloading");
        File.WriteAllText(Path.Combine(inbox, "bad name!.txt"), "some text");
        File.SetLastWriteTimeUtc(Path.Combine(inbox, "bad name!.txt"), DateTime.UtcNow.AddMinutes(-1));
        File.WriteAllText(Path.Combine(inbox, "good.txt"), "some other text");
        var unreachable = Executables.Run(Executables.Client, $"watch --run r {inbox} --once --settle 0.2 --poll 0.1 --gateway {Executables.FreePort()}", TimeSpan.FromMinutes(2));
        Assert.Equal(2, unreachable.Code);
        Assert.Contains("not queued bad name!.txt: 'bad name!' is not a corpus name", unreachable.Out);
        Assert.DoesNotContain("hidden", unreachable.Out);
        Assert.DoesNotContain("partial", unreachable.Out);
        Assert.Equal("error: the silo could not be reached; what is not sent yet is sent by the next `streaming watch`", unreachable.Err.Trim().Split('\n')[^1]);

        // Journal of another run: one line.
        var foreign = Executables.Run(Executables.Client, $"watch --run other {inbox} --once --journal {Path.Combine(inbox, ".streaming-watch.r.json")}");
        Assert.Equal(2, foreign.Code);
        Assert.Contains("belongs to run 'r', not 'other'", foreign.Err);
    }

    /// <summary>A file arrives as copiers deliver one: written under a hidden name, then renamed into place.</summary>
    static void Arrive(string folder, string name, IEnumerable<string> lines)
    {
        var hidden = Path.Combine(folder, $".{name}.partial");
        File.WriteAllLines(hidden, lines);
        File.Move(hidden, Path.Combine(folder, name));
    }

    static string[] Lines(string text, string line) => [.. text.Split('\n').Where(l => l.Contains(line))];

    /// <summary>`streaming watch` as a running process, its output kept.</summary>
    sealed class Watcher
    {
        readonly ConcurrentQueue<string> lines = new();
        readonly Process process;

        public Watcher(int gateway, string run, string folder)
        {
            process = Executables.Start(Executables.Client, $"watch --run {run} {folder} --settle 0.5 --poll 0.25 --gateway {gateway}");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue($"stderr: {e.Data}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output => string.Join('\n', lines);

        public async Task WaitForLine(string text)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (!lines.Any(l => l.Contains(text)))
            {
                if (process.HasExited) Assert.Fail($"the watcher exited ({process.ExitCode}):\n{Output}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no line with '{text}' in 2 minutes:\n{Output}");
                await Task.Delay(200);
            }
        }

        /// <summary>Stops it as a kill would (no chance to write anything more); what it printed.</summary>
        public string Stop()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return Output;
        }
    }
}
