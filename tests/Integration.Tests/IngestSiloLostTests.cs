namespace Streaming.Integration.Tests;

/// <summary>The silo dies while it ingests (the silo's own read of the file, --on-silo, so that the kill falls in the ingest and not
/// in an upload): the CLI says so in one line and exits 2 instead of waiting out the ingest's hour.</summary>
public sealed class IngestSiloLostTests(IngestSilo silo) : IClassFixture<IngestSilo>, IDisposable
{
    readonly string input = Directory.CreateTempSubdirectory("streaming-ingest-lost-").FullName;

    public void Dispose() => Directory.Delete(input, recursive: true);

    [Fact]
    public async Task KilledSiloDuringIngestIsOneLineAndExitTwo()
    {
        var path = IngestSilo.WriteParagraphs(Path.Combine(input, "big.txt"), 150L << 20);
        using var client = Executables.Start(Executables.Client, $"ingest --run {IngestSilo.Run} --on-silo --progress always --gateway {silo.Gateway} {path}");
        var stdout = client.StandardOutput.ReadToEndAsync();

        // The first progress line proves the ingest is in flight; then the silo goes, without a goodbye.
        var first = await client.StandardError.ReadLineAsync();
        Assert.True(first is not null && !first.StartsWith("error:"), $"no progress before the kill: {first}");
        silo.Process.Kill(entireProcessTree: true);
        var rest = await client.StandardError.ReadToEndAsync();
        Assert.True(client.WaitForExit(60_000), "the client still waits a minute after its silo died");

        Assert.Equal(2, client.ExitCode);
        Assert.Equal("", await stdout);
        var errors = rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToList();
        Assert.StartsWith("error: lost contact with the silo while it was ingesting", Assert.Single(errors));
        Assert.DoesNotContain("   at ", rest);
    }
}
