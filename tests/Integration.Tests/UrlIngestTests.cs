using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Model;
using ZstdSharp;

namespace Streaming.Integration.Tests;

/// <summary>
/// `streaming ingest http(s)://...`: the silo downloads the file (streamed, capped, onto the data volume), ingests it as
/// the same local file, compressed ones too, and deletes the download; an HTTP error, a silent server or a body over
/// the cap is one line. Corpus roots are set (to a folder of local copies) and hold none of the served files: URLs are
/// not paths.
/// </summary>
public sealed class UrlIngestTests() : OneSiloCluster("url-ingest"), IDisposable
{
    const long Cap = 256 << 10;
    readonly CorpusHttpServer server = new();

    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 3e-3, ConstLr = 1.5e-3, MinLr = 3e-4, WarmupSteps = 2, CooldownSteps = 4, AnnealFraction = 0.25 };
        o.MaxDownloadBytes = Cap;
        o.DownloadIdleTimeout = TimeSpan.FromSeconds(2);
        o.CorpusRoots = [LocalCopies];
    }

    public void Dispose() => server.Dispose();

    string LocalCopies => Path.Combine(Data, "local");

    Task<IngestResult> Ingest(string corpus, IngestRequest request) => Cluster.Client.GetGrain<ICorpusGrain>(corpus).IngestAsync(request);

    /// <summary>The first lines of the English sample, as a file the server serves.</summary>
    async Task<string> Sample(string name, int lines)
    {
        var path = Path.Combine(server.Folder, name);
        await File.WriteAllLinesAsync(path, (await File.ReadAllLinesAsync(SampleCorpora.File("english"))).Take(lines));
        return path;
    }

    /// <summary>Downloads left in the corpora folder (none once an ingest is over, whatever its outcome).</summary>
    string[] Downloads() =>
        Directory.Exists(BlockStore.CorporaDirectory(Data)) ? Directory.GetDirectories(BlockStore.CorporaDirectory(Data), ".*download*") : [];

    [Fact]
    public async Task ACompressedCorpusByUrlTrainsLikeTheSameFileIngestedLocally()
    {
        var plain = await Sample("english.jsonl", 20);
        await using (var output = File.Create(Path.Combine(server.Folder, "english.jsonl.zst")))
        await using (var zstd = new CompressionStream(output, 3))
            await zstd.WriteAsync(await File.ReadAllBytesAsync(plain));
        var url = server.Url("english.jsonl.zst");
        Assert.Equal("english", NameRule.CorpusNameOf(url + "?version=2"));

        var copy = Path.Combine(Directory.CreateDirectory(LocalCopies).FullName, "english.jsonl");
        File.Copy(plain, copy);
        var local = await Ingest("local", new IngestRequest(null, copy));
        var fetched = await Ingest(NameRule.CorpusNameOf(url), new IngestRequest("web", url));

        Assert.Equal((local.Tokens, local.Documents, local.ValidationTokens), (fetched.Tokens, fetched.Documents, fetched.ValidationTokens));
        Assert.Equal(url, fetched.Source);
        Assert.Equal(new FileInfo(Path.Combine(server.Folder, "english.jsonl.zst")).Length, fetched.SourceBytes);
        Assert.Empty(Downloads());
        // The same URL again is the same source: already queued, nothing stored twice.
        Assert.True((await Ingest("english", new IngestRequest("web", url))).AlreadyQueued);

        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("web");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        RunStatus status;
        while ((status = await trainer.GetStatusAsync()).Corpora.Single().TokensRead < fetched.Tokens && DateTime.UtcNow < deadline)
            await Task.Delay(500);
        Assert.DoesNotContain("failed", status.Phase);
        Assert.Equal(fetched.Tokens, status.Corpora.Single(c => c.Name == "english").TokensRead);
    }

    [Fact]
    public async Task HttpErrorsAndASilentServerAreOneLine()
    {
        await Sample("english.jsonl", 5);
        var missing = server.Url("missing.jsonl");
        var notFound = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("missing", new IngestRequest("errors", missing)));
        Assert.Equal($"{missing}: the server answered HTTP 404 Not Found", notFound.Message);

        var stalled = server.Url("stall/english.jsonl");
        var timedOut = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("stalled", new IngestRequest("errors", stalled)));
        Assert.Equal($"{stalled}: the server sent nothing for 2 s: timed out", timedOut.Message);

        var closed = $"http://127.0.0.1:{Executables.FreePort()}/english.jsonl";
        var refused = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("closed", new IngestRequest("errors", closed)));
        Assert.StartsWith($"{closed}: Connection refused", refused.Message);

        Assert.All([notFound, timedOut, refused], e => Assert.DoesNotContain('\n', e.Message));
        Assert.Empty(Downloads());
        Assert.False(Directory.Exists(BlockStore.CorpusDirectory(Data, "missing")));
    }

    [Fact]
    public async Task ABodyOverTheCapIsRefusedWithOrWithoutALength()
    {
        IngestSilo.WriteParagraphs(Path.Combine(server.Folder, "big.txt"), Cap + 40_000);
        var announced = server.Url("big.txt");
        var tooLarge = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("big", new IngestRequest("caps", announced)));
        Assert.StartsWith($"{announced}: the file is over the silo's download limit of 256 KiB (", tooLarge.Message);

        // Without a length the cap holds for what arrives.
        var chunked = server.Url("chunked/big.txt");
        var arrived = await Assert.ThrowsAsync<IngestFailedException>(() => Ingest("big", new IngestRequest("caps", chunked)));
        Assert.Equal($"{chunked}: the file is over the silo's download limit of 256 KiB; the silo's --max-download-mb sets the limit", arrived.Message);

        Assert.Empty(Downloads());
        Assert.False(Directory.Exists(BlockStore.CorpusDirectory(Data, "big")));
    }
}
