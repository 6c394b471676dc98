using Streaming.Client;
using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>
/// `streaming ingest PATH` from a client's machine, through the real CLI against a real silo whose corpus roots hold none
/// of the files: the file or folder is uploaded, ingested and trained; the same file again is already queued; an upload
/// cut off midway (half of it sent through the grain) is completed by the CLI, and a damaged partial copy is discarded
/// and sent again; the result is exactly the file. Too large, or a name that would leave the upload folder: one line.
/// </summary>
public sealed class UploadTests(UploadSilo fixture) : IClassFixture<UploadSilo>
{
    SiloProcess Silo => fixture.Silo;

    (int Code, string Out, string Err) Ingest(string path, string run, string options = "") =>
        Silo.Client($"ingest --run {run} --progress never {options} {path}");

    string Write(string name, long bytes)
    {
        var path = Path.Combine(fixture.Laptop, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return IngestSilo.WriteParagraphs(path, bytes);
    }

    static Task<LocalCorpus> Describe(string path) => LocalCorpus.DescribeAsync(path, (_, _) => { }, CancellationToken.None);

    /// <summary>Where the silo keeps the complete upload of <paramref name="local"/>.</summary>
    string Uploaded(LocalCorpus local) => Path.Combine(UploadFolder.Root(Silo.Data), local.Manifest.Id, local.Manifest.Name);

    static void AssertSameFile(string expected, string actual) => Assert.True(File.ReadAllBytes(expected).SequenceEqual(File.ReadAllBytes(actual)), $"{actual} differs from {expected}");

    [Fact]
    public async Task AFileOutsideTheCorpusRootsIsUploadedAndTrainsAndTheSameFileAgainIsAlreadyQueued()
    {
        var path = Write("laptop-notes.txt", 20_000);
        IngestCommandTests.AssertError(Ingest(path, "laptop", "--on-silo"), $"'{path}' is outside the silo's corpus roots");

        var uploaded = Ingest(path, "laptop");
        Assert.True(uploaded.Code == 0, uploaded.Err);
        Assert.StartsWith("queued laptop-notes on run laptop: ", uploaded.Out);
        AssertSameFile(path, Uploaded(await Describe(path)));
        var tokens = IngestSilo.Tokens(uploaded.Out);
        await Executables.WaitForRun(Silo.Gateway, "laptop", run => run.GetProperty("corpora").EnumerateArray()
            .Any(c => c.GetProperty("name").GetString() == "laptop-notes" && c.GetProperty("tokensRead").GetInt64() == tokens));

        var again = Ingest(path, "laptop");
        Assert.True(again.Code == 0, again.Err);
        Assert.StartsWith("laptop-notes is already queued on run laptop: ", again.Out);
    }

    [Fact]
    public async Task AnUploadCutOffHalfwayIsCompletedByTheCliAndIsExactlyTheFile()
    {
        var path = Write("half-sent.txt", 2 * CorpusUpload.ChunkBytes + 1000);
        var local = await Describe(path);
        await using (var connection = await SiloConnection.ConnectAsync(new SiloTarget(Silo.Gateway, null), CancellationToken.None))
        {
            var upload = connection.Client.GetGrain<IUploadGrain>(local.Manifest.Id);
            var status = await upload.BeginAsync(local.Manifest);
            Assert.Equal([0L], status.Received);
            var firstChunk = File.ReadAllBytes(path)[..CorpusUpload.ChunkBytes];
            Assert.Equal(CorpusUpload.ChunkBytes, await upload.AppendAsync(0, 0, firstChunk));
            // A chunk at the wrong place is not written: the answer says where the next one goes.
            Assert.Equal(CorpusUpload.ChunkBytes, await upload.AppendAsync(0, 10, firstChunk[..100]));
            Assert.Equal([(long)CorpusUpload.ChunkBytes], (await upload.BeginAsync(local.Manifest)).Received);
        }

        var resumed = Ingest(path, "resume");
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.StartsWith("queued half-sent on run resume: ", resumed.Out);
        AssertSameFile(path, Uploaded(local));
    }

    [Fact]
    public async Task ADamagedPartialUploadIsDiscardedAndTheNextIngestSendsItAnew()
    {
        var path = Write("damaged.txt", CorpusUpload.ChunkBytes + 1000);
        var local = await Describe(path);
        await using (var connection = await SiloConnection.ConnectAsync(new SiloTarget(Silo.Gateway, null), CancellationToken.None))
        {
            var upload = connection.Client.GetGrain<IUploadGrain>(local.Manifest.Id);
            await upload.BeginAsync(local.Manifest);
            await upload.AppendAsync(0, 0, new byte[1000]);   // not what the file holds there
        }

        IngestCommandTests.AssertError(Ingest(path, "damaged"),
            "damaged.txt arrived different from what was sent (length or SHA-256) and was discarded: ingest again to send it anew");
        var again = Ingest(path, "damaged");
        Assert.True(again.Code == 0, again.Err);
        Assert.StartsWith("queued damaged on run damaged: ", again.Out);
        AssertSameFile(path, Uploaded(local));
    }

    [Fact]
    public async Task AFolderCorpusIsUploadedWithItsRelativePaths()
    {
        Write("shelf/a.txt", 3000);
        Write("shelf/deep/b.txt", 3000);
        File.WriteAllText(Path.Combine(fixture.Laptop, "shelf", "notes.md"), "# not a corpus file");
        var folder = Path.Combine(fixture.Laptop, "shelf");

        var uploaded = Ingest(folder, "folder");
        Assert.True(uploaded.Code == 0, uploaded.Err);
        Assert.StartsWith("queued shelf on run folder: ", uploaded.Out);
        Assert.Contains("skipped 1 file: 1 not .txt/.jsonl/.parquet", uploaded.Out);
        var copy = Uploaded(await Describe(folder));
        AssertSameFile(Path.Combine(folder, "deep", "b.txt"), Path.Combine(copy, "deep", "b.txt"));
        Assert.Equal(3, Directory.GetFiles(copy, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task AnUploadOverTheLimitIsRefusedInOneLineAndNothingIsKept()
    {
        var path = Write("too-big.txt", (UploadSilo.MaxUploadMiB + 1L) << 20);
        var size = new FileInfo(path).Length;
        IngestCommandTests.AssertError(Ingest(path, "big"),
            $"too-big.txt ({Streaming.Training.Data.ByteSize.Format(size)}) is over the silo's upload limit of {UploadSilo.MaxUploadMiB} MiB; "
            + "the silo's --max-upload-mb sets the limit");
        Assert.False(Directory.Exists(Path.Combine(UploadFolder.Root(Silo.Data), (await Describe(path)).Manifest.Id)));
    }

    [Fact]
    public async Task AManifestWhoseNamesLeaveTheUploadFolderIsRefused()
    {
        var escaping = new UploadManifest("shelf", [new UploadFile("../../etc/cron.d/x", 1, new string('0', 64))]);
        await using var connection = await SiloConnection.ConnectAsync(new SiloTarget(Silo.Gateway, null), CancellationToken.None);
        var refused = await Assert.ThrowsAsync<IngestFailedException>(() => connection.Client.GetGrain<IUploadGrain>(escaping.Id).BeginAsync(escaping));
        Assert.Equal("upload refused: 'shelf/../../etc/cron.d/x' is not a plain relative path", refused.Message);
        var mismatched = await Assert.ThrowsAsync<IngestFailedException>(() => connection.Client.GetGrain<IUploadGrain>(new string('a', 64)).BeginAsync(escaping));
        Assert.StartsWith($"upload {new string('a', 64)} is not the id of what was declared", mismatched.Message);
    }
}
