using System.Text.RegularExpressions;

namespace Streaming.Integration.Tests;

/// <summary>
/// A big ingest shows its progress while the client uploads and the silo works: bytes sent, then bytes read of the total per
/// pass, documents, tokens.
/// Its own silo, because the big corpus it queues keeps a trainer busy until the class ends.
/// </summary>
public sealed partial class IngestProgressTests(IngestSilo silo) : IClassFixture<IngestSilo>, IDisposable
{
    readonly string input = Directory.CreateTempSubdirectory("streaming-ingest-big-").FullName;

    public void Dispose() => Directory.Delete(input, recursive: true);

    [Fact]
    public void ProgressGoesToStderrWhileTheSummaryGoesToStdout()
    {
        // About 150 MiB of paragraphs: a few seconds of work for the silo, so the bars get drawn mid-way.
        var path = IngestSilo.WriteParagraphs(Path.Combine(input, "big.txt"), 150L << 20);

        // Not a terminal, so `always` draws Spectre's plain fallback on stderr: "big upload: 40%", "big scan: 12,345 docs: 25%".
        // Uploaded first (on a busy machine this takes longer than the minute a command usually gets).
        var (code, stdout, stderr) = silo.Client($"ingest --run {IngestSilo.Run} --progress always {path}", TimeSpan.FromMinutes(3));

        Assert.True(code == 0, stderr);
        var summary = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"queued big on run {IngestSilo.Run}: ", summary);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(ProgressLine(), l));
        // At least one line shows the work unfinished: progress arrived while the ingest call was in flight.
        Assert.Contains(lines, l => int.Parse(ProgressLine().Match(l).Groups[1].Value) < 100);
        // The client hashed and uploaded the file before the silo read it, on the same first bar.
        Assert.Contains(lines, l => l.StartsWith("big upload: "));
        silo.AssertGoodCorpusIntact();
    }

    [GeneratedRegex(@"^big (?:hash|upload|scan: [\d,]+ docs|tokenize: [\d,]+ docs, [\d,]+ tokens): (\d+)%$")]
    private static partial Regex ProgressLine();
}
