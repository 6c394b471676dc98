using Streaming.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Schedules;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>What a corpus grain remembers: the source its blocks were stored from, and the runs it is queued on.</summary>
[GenerateSerializer]
public sealed class CorpusState
{
    [Id(0)] public string? Source { get; set; }
    // Id 1 was the single run of earlier versions, when a corpus fed one run only.
    [Id(2)] public long Blocks { get; set; }
    [Id(3)] public long Tokens { get; set; }
    [Id(4)] public List<string> Runs { get; set; } = [];
}

/// <summary>
/// One corpus. Ingest tokenizes the source into a durable block store under the data folder (off the
/// grain scheduler: it is CPU-bound) and queues the corpus on a run; the store is the durable log, so
/// any block can be published again whenever a trainer asks (<see cref="CorpusBlocksGrain"/>, not this grain: calls go
/// one way, from here to the trainer during an ingest, from the trainer to the blocks for training). One corpus can feed several runs (runs that
/// compare schedules or seeds on the same data): ingesting its source on another run attaches the stored
/// blocks to that run, tokenized once, with the tokenizer they were stored with. Another name for the same text on a
/// run is refused (unless the request allows duplicates), and documents the run's other corpora hold too are counted.
/// Every failure leaves the grain as it was and reaches the caller as one <see cref="IngestFailedException"/>
/// line; a name is only taken once its corpus is queued, and a failed attach leaves the corpus on its other runs.
/// </summary>
public sealed class CorpusGrain(
    IOptions<StreamingOptions> options,
    ILogger<CorpusGrain> logger,
    [PersistentState("corpus", StreamNames.Storage)] IPersistentState<CorpusState> state) : Grain, ICorpusGrain
{
    volatile IngestProgressInfo? progress;   // written by the ingest thread, read by interleaved polls

    string Name => this.GetPrimaryKeyString();

    public async Task<IngestResult> IngestAsync(IngestRequest request)
    {
        var previous = state.State;
        Check(request, previous);
        var settings = options.Value;
        var directory = BlockStore.CorpusDirectory(settings.DataDirectory, Name);
        var existed = Directory.Exists(directory);
        var tokenizer = await AgreeTokenizer(request, previous.Source is null ? null : StoredTokenizer(directory));
        IReadOnlyList<string> others = request.Run is null ? [] : await OtherCorpora(request.Run);
        // The same name again on its run stays a no-op, even beside a copy that was allowed in.
        var checkDuplicate = !request.AllowDuplicate && !(request.Run is not null && previous.Runs.Contains(request.Run));
        var ingest = new IngestOptions
        {
            BlockSize = settings.BlockTokens,
            DistinctFrom = checkDuplicate ? [.. others.Select(o => BlockStore.CorpusDirectory(settings.DataDirectory, o))] : [],
        };
        // A stored corpus of the same source comes back as it is (the source is read again only to check it is unchanged).
        var (manifest, sourceBytes) = await Read(request, previous, ingest, tokenizer);

        if (request.Run is not { } run)
        {
            // Stored only: no run to queue it on (yet).
            state.State = new CorpusState { Source = request.Path, Runs = previous.Runs, Blocks = TrainBlocksOf(manifest), Tokens = TrainTokensOf(manifest) };
            await state.WriteStateAsync();
            return Result(request, manifest, ingest, sourceBytes, alreadyQueued: previous.Source is not null);
        }
        var alreadyQueued = previous.Runs.Contains(run);
        var result = Result(request, manifest, ingest, sourceBytes, alreadyQueued) with { AlsoIn = await SharedWith(others) };
        state.State = new CorpusState
        {
            Source = request.Path, Runs = alreadyQueued ? previous.Runs : [.. previous.Runs, run], Blocks = TrainBlocksOf(manifest), Tokens = TrainTokensOf(manifest),
        };
        try
        {
            await state.WriteStateAsync();
            var trained = await GrainFactory.GetGrain<ITrainerGrain>(run).EnqueueCorpusAsync(result.Info);
            // What the user is told is what the run will train (its own blocks), not how the silo stored it.
            result = result with { Blocks = trained.Blocks, Tokens = trained.Tokens };
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "corpus {Corpus}: could not queue it on run {Run}", Name, run);
            if (!RefusedByTheRun(e))
            {
                // The call may have got through (a response timed out, a silo went away): the store and the state stay, for
                // the run may be training from them. An ingest of the same source again finds it queued, or queues it.
                if (await RunHasCorpus(run)) return result;
                throw new IngestFailedException($"corpus '{Name}' was stored, but run '{run}' did not confirm it was queued ({ExceptionText.FirstLine(e.Message)}): "
                    + "ingest it again to make sure");
            }
            // Only a corpus that was not stored before is forgotten; one that feeds others keeps feeding them.
            if (previous.Source is null) await Forget(directory, existed);
            else await Restore(previous);
            throw new IngestFailedException($"corpus '{Name}' could not be queued on run '{run}': {ExceptionText.FirstLine(e.Message)}");
        }
        return result;
    }

    /// <summary>The trainer refused the corpus with a reason of its own (it is certainly not queued), rather than the
    /// call failing on its way (it may be).</summary>
    static bool RefusedByTheRun(Exception error) => error is ArgumentException or InvalidOperationException or UnreadableStateException;

    /// <summary>Whether the run lists this corpus; false when it does not answer either.</summary>
    async Task<bool> RunHasCorpus(string run)
    {
        try
        {
            return (await GrainFactory.GetGrain<ITrainerGrain>(run).GetCorporaAsync()).Contains(Name);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "corpus {Corpus}: run {Run} did not say whether it has the corpus", Name, run);
            return false;
        }
    }

    /// <summary>The tokenizer the corpus' blocks were stored with (its manifest).</summary>
    string StoredTokenizer(string directory)
    {
        try
        {
            return CorpusManifest.Load(directory).Tokenizer;
        }
        catch (CorpusFormatException e)
        {
            throw new IngestFailedException($"corpus '{Name}' was ingested but its stored blocks are unreadable: {ExceptionText.FirstLine(e.Message)}");
        }
    }

    /// <summary>
    /// The tokenizer to read the source with, agreed with the run. A first ingest takes the requested one or the run's.
    /// A stored corpus keeps the one it was stored with (<paramref name="stored"/>): the run must use it too, and a run
    /// without corpora adopts it.
    /// </summary>
    async Task<string> AgreeTokenizer(IngestRequest request, string? stored)
    {
        if (request.Run is null)
        {
            var chosen = request.Tokenizer ?? stored ?? options.Value.Tokenizer;
            if (!Tokenizers.Names.Contains(chosen))
                throw new IngestFailedException($"unknown tokenizer '{chosen}': use one of {string.Join(", ", Tokenizers.Names)}");
            if (stored is not null && chosen != stored)
                throw new IngestFailedException($"corpus '{Name}' is stored with the {stored} tokenizer, not {chosen}: ingest the source under another --name to tokenize it with {chosen}");
            return chosen;
        }
        var trainer = GrainFactory.GetGrain<ITrainerGrain>(request.Run);
        string tokenizer;
        try
        {
            tokenizer = await trainer.UseTokenizerAsync(request.Tokenizer ?? stored);
        }
        catch (ArgumentException) when (request.Tokenizer is null && stored is not null)
        {
            // The run's corpora fixed another tokenizer; asked for none, the run names its own and changes nothing.
            tokenizer = await trainer.UseTokenizerAsync(null);
        }
        catch (ArgumentException e)
        {
            throw new IngestFailedException(e.Message);
        }
        if (stored is not null && tokenizer != stored)
            throw new IngestFailedException($"corpus '{Name}' is stored with the {stored} tokenizer; run '{request.Run}' uses {tokenizer}: " +
                $"ingest the source under another --name to tokenize it with {tokenizer}");
        return tokenizer;
    }

    public Task<IngestProgressInfo?> GetIngestProgressAsync() => Task.FromResult(progress);

    /// <summary>The names of the run's other corpora, whose text and documents this one is compared with.</summary>
    async Task<IReadOnlyList<string>> OtherCorpora(string run)
    {
        try
        {
            var corpora = await GrainFactory.GetGrain<ITrainerGrain>(run).GetCorporaAsync();
            return [.. corpora.Where(name => name != Name)];
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "corpus {Corpus}: run {Run} did not list its corpora", Name, run);
            throw new IngestFailedException($"run '{run}' did not say which corpora it has: {ExceptionText.FirstLine(e.Message)}");
        }
    }

    /// <summary>
    /// How many of this corpus' documents each of <paramref name="others"/> holds too (those with any), from the stored
    /// document hashes; a corpus stored before they were kept is passed over. Counting is extra: if the files cannot be
    /// read, the ingest goes on without counts.
    /// </summary>
    async Task<IReadOnlyList<SharedDocuments>> SharedWith(IReadOnlyList<string> others)
    {
        var data = options.Value.DataDirectory;
        var directory = BlockStore.CorpusDirectory(data, Name);
        try
        {
            return await Task.Run(() => others
                .Select(other => new SharedDocuments(other, DocumentHashes.CountShared(directory, BlockStore.CorpusDirectory(data, other)) ?? 0))
                .Where(shared => shared.Documents > 0)
                .ToList());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "corpus {Corpus}: could not count the documents it shares with other corpora", Name);
            return [];
        }
    }

    /// <summary>Refusals that need no reading: bad names, a path outside the silo's corpus roots, a name already used for
    /// another source.</summary>
    void Check(IngestRequest request, CorpusState previous)
    {
        if (!CorpusIngestor.IsValidName(Name))
            throw new IngestFailedException($"invalid corpus name '{Name}': use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit); choose one with --name");
        if (request.Run is not null && !CorpusIngestor.IsValidName(request.Run))
            throw new IngestFailedException($"invalid run name '{request.Run}': use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)");
        // An upload is the silo's own copy, in its data folder: the roots confine the paths a client names, not that.
        if (request.Upload is null && !CorpusSource.IsUrl(request.Path, out _) && CorpusRoots.Refusal(request.Path, options.Value.CorpusRoots) is { } outside)
            throw new IngestFailedException(outside);
        if (previous.Source is { } source && source != request.Path)
            throw new IngestFailedException($"corpus name '{Name}' is already used (for {source}{OnRuns(previous)}); choose another --name");
    }

    /// <summary>Runs the ingestor on its own thread, publishing its progress; turns every failure into one line. A URL is
    /// first downloaded into a folder on the data volume, read as a local file would be, and deleted whatever happens; an
    /// upload is read where it was stored. Messages name the source as the client named it.</summary>
    /// <returns>The stored corpus, and the bytes of its source files (from the last progress report).</returns>
    async Task<(CorpusManifest, long)> Read(IngestRequest request, CorpusState previous, IngestOptions ingest, string tokenizer)
    {
        var name = Name;
        var settings = options.Value;
        var report = new LatestProgress(p => progress = new IngestProgressInfo(name, p.Phase.ToWire(), p.BytesRead, p.TotalBytes, p.Documents, p.Tokens, p.SkippedDocuments));
        (string Folder, IDisposable Lock)? download = null;
        var source = request.Path;
        try
        {
            if (request.Upload is { } upload)
            {
                source = UploadFolder.CompletePath(settings.DataDirectory, upload)
                    ?? throw new IngestFailedException($"the upload of {request.Path} is not on the silo (incomplete, or removed as stale): ingest it again");
            }
            else if (CorpusSource.IsUrl(request.Path, out var url))
            {
                progress = new IngestProgressInfo(name, IngestProgressInfo.DownloadPhase, 0, 0, 0, 0, 0);
                download = CorpusIngestor.CreateDownloadFolder(settings.DataDirectory, name);
                source = await CorpusDownload.ToFileAsync(url, download.Value.Folder, settings.MaxDownloadBytes, settings.DownloadIdleTimeout,
                    (received, length) => progress = new IngestProgressInfo(name, IngestProgressInfo.DownloadPhase, received, length, 0, 0, 0));
            }
            progress = new IngestProgressInfo(name, IngestPhase.Scan.ToWire(), 0, 0, 0, 0, 0);
            var local = source;
            var manifest = await Task.Run(() => CorpusIngestor.Ingest(local, settings.DataDirectory, name, Tokenizers.Create(tokenizer), ingest, report));
            return (manifest, progress?.TotalBytes ?? 0);
        }
        catch (IngestFailedException)
        {
            throw;
        }
        catch (CorpusExistsException) when (previous.Source is not null)
        {
            throw new IngestFailedException($"{request.Path} has changed since corpus '{name}' was ingested from it{OnRuns(previous)}, " +
                "whose training uses the stored blocks; ingest the new content under another --name");
        }
        catch (CorpusExistsException e)
        {
            throw new IngestFailedException($"a different corpus named '{name}' is already stored in {e.Directory} (left by an earlier ingest); choose another --name");
        }
        catch (DuplicateCorpusException e)
        {
            throw new IngestFailedException($"run '{request.Run}' already has this text as corpus '{e.Corpus}' (same content hash); use --allow-duplicate to train it again");
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            // The staging folder (or download) is gone already: nothing of this corpus stays on the volume.
            throw new IngestFailedException($"{request.Path} was not stored: {DiskFull.Describe(settings.DataDirectory)} on the silo; "
                + "free space or grow the volume, then ingest again");
        }
        catch (Exception e) when (e is CorpusFormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The user knows the URL or their own path, not the silo's download or upload folder.
            throw new IngestFailedException(ExceptionText.FirstLine(e.Message).Replace(source, request.Path));
        }
        catch (Exception e)
        {
            // Not an input problem the reader knows: still one line for the user, the details for the operator.
            logger.LogError(e, "corpus {Corpus}: ingest of {Path} failed", name, request.Path);
            throw new IngestFailedException($"ingest of {request.Path} failed on the silo: {e.GetType().Name}: {ExceptionText.FirstLine(e.Message)} (details in the silo log)");
        }
        finally
        {
            progress = null;
            if (download is { } downloaded) DeleteDownload(downloaded.Folder, downloaded.Lock);
        }
    }

    /// <summary>Deletes a downloaded source once it is stored (or failed); one left behind is cleared at the next start.</summary>
    void DeleteDownload(string folder, IDisposable held)
    {
        held.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "corpus {Corpus}: could not delete the download {Folder}", Name, folder);
        }
    }

    static IngestResult Result(IngestRequest request, CorpusManifest manifest, IngestOptions ingest, long sourceBytes, bool alreadyQueued)
    {
        var s = manifest.Skipped;
        var skips = new IngestSkips(s.InvalidUtf8, s.TooLarge, s.MalformedJson, s.MissingText, s.EmptyDocuments, s.EmptyFiles, s.BinaryFiles,
            s.UnsupportedFiles, s.Describe(ingest.Reader.MaxDocumentBytes));
        return new IngestResult(manifest.Name, request.Path, TrainBlocksOf(manifest), TrainTokensOf(manifest),
            manifest.TrainDocuments + manifest.ValidationDocuments, manifest.ValidationTokens, skips, alreadyQueued, sourceBytes, manifest.MissingValidation());
    }

    /// <summary>The blocks and tokens a run of the silo's block size trains: the stored ones but a last block of one token.</summary>
    static long TrainBlocksOf(CorpusManifest manifest) => TrainBlocks.Count(manifest.TrainTokens, manifest.BlockSize);
    static long TrainTokensOf(CorpusManifest manifest) => TrainBlocks.Tokens(manifest.TrainTokens, manifest.BlockSize);

    /// <summary>" on run a" or " on runs a, b": the runs a corpus is queued on, for messages.</summary>
    static string OnRuns(CorpusState corpus) =>
        corpus.Runs.Count == 0 ? "" : $" on run{(corpus.Runs.Count == 1 ? "" : "s")} {string.Join(", ", corpus.Runs)}";

    /// <summary>Puts back the state of a corpus that could not be attached to one more run: it stays on exactly its earlier runs.</summary>
    async Task Restore(CorpusState previous)
    {
        state.State = previous;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "corpus {Corpus}: could not restore its state after a failed ingest", Name);
        }
    }

    /// <summary>Undoes a first ingest whose corpus could not be queued, so that the name is free for a retry.</summary>
    async Task Forget(string directory, bool existed)
    {
        try
        {
            await state.ClearStateAsync();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "corpus {Corpus}: could not clear its state after a failed ingest", Name);
        }
        state.State = new CorpusState();
        // Only a store this call created; one that was there before may be someone's.
        if (!existed && Directory.Exists(directory))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException e)
            {
                logger.LogWarning(e, "corpus {Corpus}: could not delete {Directory} after a failed ingest", Name, directory);
            }
        }
    }

    public Task<CorpusInfo> GetInfoAsync() => Task.FromResult(Info());

    CorpusInfo Info() => new(Name, state.State.Source ?? "", state.State.Blocks, state.State.Tokens);

    /// <summary>Hands each report on at once, on the reporting thread (Progress&lt;T&gt; would post them, maybe out of order).</summary>
    sealed class LatestProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
