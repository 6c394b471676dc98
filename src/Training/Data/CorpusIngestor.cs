using Streaming.Training.Native;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Streaming.Training.Data;

/// <summary>
/// Turns a corpus (file or folder) into a stored block corpus under
/// <c>&lt;dataRoot&gt;/corpora/&lt;name&gt;/</c> (see <see cref="CorpusManifest"/> for the layout).
/// Two streaming passes keep memory bounded by one document: pass 1 hashes every document (source
/// hash, split plan, skip counts); pass 2 tokenizes and appends to the train or validation file. A corpus of
/// one distinct document, which the document split cannot divide, is then cut into blocks (<see cref="BlockSplit"/>).
/// The result appears atomically: everything is written to a hidden sibling folder, flushed to disk,
/// then renamed into place, so a crash leaves either no corpus or a complete one.
/// Synchronous and CPU-bound: call it off an Orleans grain's scheduler (e.g. Task.Run). One ingest
/// per corpus name at a time (the CorpusGrain serializes them); different names may run in parallel.
/// </summary>
public static partial class CorpusIngestor
{
    public const string TrainFile = "train.bin";
    public const string ValidationFile = "valid.bin";

    /// <exception cref="CorpusFormatException">Unreadable source, no documents, or source changed during ingest.</exception>
    /// <exception cref="CorpusExistsException">A different corpus of this name is stored and <see cref="IngestOptions.Overwrite"/> is off.</exception>
    /// <exception cref="DuplicateCorpusException">A corpus of <see cref="IngestOptions.DistinctFrom"/> holds the same text.</exception>
    public static CorpusManifest Ingest(string sourcePath, string dataRoot, string name, ITokenizer tokenizer,
        IngestOptions? options = null, IProgress<IngestProgress>? progress = null, CancellationToken cancellation = default)
    {
        options ??= IngestOptions.Default;
        if (options.BlockSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), "block size must be positive");
        var target = BlockStore.CorpusDirectory(dataRoot, name);
        var reader = new CorpusReader(sourcePath, options.Reader);

        var scan = Scan(reader, options, progress, cancellation);
        if (scan.Documents == 0)
            throw new CorpusFormatException(NoDocuments(sourcePath, scan.Skipped, options.Reader.MaxDocumentBytes));
        if (options.DistinctFrom.Select(TryLoad).FirstOrDefault(other => other?.SourceHash == scan.SourceHash) is { } same)
            throw new DuplicateCorpusException(same.Name);

        // Ingesting the same documents with the same settings again is a no-op (a restarted grain may ask).
        var stored = System.IO.Directory.Exists(target) ? TryLoad(target) : null;
        if (stored is not null && stored.SourceHash == scan.SourceHash && stored.Tokenizer == tokenizer.Name
            && stored.BlockSize == options.BlockSize && stored.ValidationFraction.Equals(options.ValidationFraction))
            return stored;
        if (System.IO.Directory.Exists(target) && !options.Overwrite)
            throw new CorpusExistsException(name, target);

        var tokenBytes = tokenizer.VocabularySize <= 65536 ? 2 : 4;
        var staging = Path.Combine(Path.GetDirectoryName(target)!, $"{StagingPrefix}{name}{IngestInfix}{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            CorpusManifest manifest;
            // Held until the staging folder is the corpus: RemoveLeftovers passes over a staging folder whose lock is taken.
            using (StagingLock(staging, FileMode.CreateNew))
            {
                manifest = Write(sourcePath, reader, tokenizer, options, scan, staging, name, tokenBytes, progress, cancellation);
                if (Directory.Exists(target)) Replace(target, staging);
                else Directory.Move(staging, target);
            }
            File.Delete(Path.Combine(target, LockFile));
            LibC.SyncDirectory(Path.GetDirectoryName(target)!);   // the rename itself survives a power loss
            return manifest;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    const string StagingPrefix = ".", LockFile = ".lock", RetiredInfix = ".old-", IngestInfix = ".ingest-", DownloadInfix = ".download-";

    /// <summary>
    /// A new hidden folder in the corpora folder for the downloaded source of corpus <paramref name="name"/>, on the data
    /// volume (not /tmp, which may be small or memory) and locked like an ingest's staging folder: <see cref="RemoveLeftovers"/>
    /// passes over it until the lock is disposed, and clears it when a kill left it. The caller deletes it when done.
    /// </summary>
    public static (string Folder, IDisposable Lock) CreateDownloadFolder(string dataRoot, string name)
    {
        var folder = Path.Combine(BlockStore.CorporaDirectory(dataRoot), $"{StagingPrefix}{name}{DownloadInfix}{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return (folder, StagingLock(folder, FileMode.CreateNew));
    }

    static FileStream StagingLock(string staging, FileMode mode) =>
        new(Path.Combine(staging, LockFile), mode, FileAccess.ReadWrite, FileShare.None);

    /// <summary>
    /// Clears what ingests killed midway left in the corpora folder: staging folders no live ingest holds (their lock
    /// file free) are deleted; a corpus' retired copy is deleted when the corpus is in place, and put back when a kill
    /// fell between <see cref="Replace"/>'s two renames (then it is the only complete copy). Returns what it did, one
    /// line each, for the log.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string dataRoot)
    {
        var corpora = BlockStore.CorporaDirectory(dataRoot);
        if (!Directory.Exists(corpora)) return [];
        var done = new List<string>();
        foreach (var folder in Directory.GetDirectories(corpora).Order(StringComparer.Ordinal))
        {
            try
            {
                if (RemoveLeftover(corpora, folder) is { } line) done.Add(line);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                done.Add($"could not clear {folder}: {e.Message}");
            }
        }
        return done;
    }

    /// <summary>Clears one folder of the corpora folder if it is a leftover; what was done, or null.</summary>
    static string? RemoveLeftover(string corpora, string folder)
    {
        var name = Path.GetFileName(folder);
        if (name.StartsWith(StagingPrefix) && (name.Contains(IngestInfix) || name.Contains(DownloadInfix)))
        {
            if (Held(folder)) return null;
            Directory.Delete(folder, recursive: true);
            return $"removed the staging folder {folder} of an ingest that did not finish";
        }
        if (name.IndexOf(RetiredInfix, StringComparison.Ordinal) is not (> 0 and var at) || !IsValidName(name[..at])) return null;
        var corpus = Path.Combine(corpora, name[..at]);
        if (Directory.Exists(corpus))
        {
            Directory.Delete(folder, recursive: true);
            return $"removed {folder}, the copy {corpus} replaced";
        }
        Directory.Move(folder, corpus);
        LibC.SyncDirectory(corpora);
        return $"put {folder} back as {corpus}: its replacement had not been moved in";
    }

    /// <summary>Whether a live ingest holds the staging folder's lock (a folder without one is being created or was left).</summary>
    static bool Held(string staging)
    {
        try
        {
            using (StagingLock(staging, FileMode.Open)) return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private sealed record ScanResult(long Documents, string SourceHash, DocumentSplit Split, SkipCounts Skipped);

    private static ScanResult Scan(CorpusReader reader, IngestOptions options, IProgress<IngestProgress>? progress, CancellationToken cancellation)
    {
        var skipped = new SkipCounts();
        var planner = new DocumentSplit.Planner(options.ValidationFraction);
        using var source = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var report = new ProgressThrottle(progress);
        long documents = 0;
        foreach (var document in reader.ReadDocuments(skipped))
        {
            cancellation.ThrowIfCancellationRequested();
            var hash = DocumentSplit.Hash(document.Text);
            planner.Add(hash);
            source.AppendData(hash);
            documents++;
            if (report.Due()) report.Report(new IngestProgress(IngestPhase.Scan, reader.BytesRead, reader.TotalBytes, documents, 0, skipped.Documents));
        }
        report.Report(new IngestProgress(IngestPhase.Scan, reader.TotalBytes, reader.TotalBytes, documents, 0, skipped.Documents));
        return new ScanResult(documents, Convert.ToHexStringLower(source.GetHashAndReset()), planner.Build(), skipped);
    }

    private static CorpusManifest Write(string sourcePath, CorpusReader reader, ITokenizer tokenizer, IngestOptions options, ScanResult scan,
        string staging, string name, int tokenBytes, IProgress<IngestProgress>? progress, CancellationToken cancellation)
    {
        // A corpus of one distinct document is written whole to train first, then cut into blocks (SplitByBlocks).
        var byBlocks = options.ValidationFraction > 0 && !scan.Split.HoldsOutDocuments;
        long trainDocuments = 0, validationDocuments = 0, trainTokens, validationTokens;
        using (var train = new TokenFileWriter(Path.Combine(staging, TrainFile), tokenBytes))
        using (var validation = new TokenFileWriter(Path.Combine(staging, ValidationFile), tokenBytes))
        using (var documentHashes = new DocumentHashes.Writer(staging))
        {
            using var source = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var report = new ProgressThrottle(progress);
            foreach (var document in reader.ReadDocuments(new SkipCounts()))
            {
                cancellation.ThrowIfCancellationRequested();
                var hash = DocumentSplit.Hash(document.Text);
                source.AppendData(hash);
                documentHashes.Add(DocumentSplit.Position(hash));
                var isValidation = !byBlocks && scan.Split.IsValidation(hash);
                var writer = isValidation ? validation : train;
                writer.Write(tokenizer.Encode(document.Text));
                if (tokenizer.EndOfTextId is { } endOfText) writer.Write(endOfText);
                if (isValidation) validationDocuments++;
                else trainDocuments++;
                if (report.Due())
                    report.Report(new IngestProgress(IngestPhase.Tokenize, reader.BytesRead, reader.TotalBytes,
                        trainDocuments + validationDocuments, train.Tokens + validation.Tokens, scan.Skipped.Documents));
            }
            report.Report(new IngestProgress(IngestPhase.Tokenize, reader.TotalBytes, reader.TotalBytes,
                trainDocuments + validationDocuments, train.Tokens + validation.Tokens, scan.Skipped.Documents));
            if (trainDocuments + validationDocuments != scan.Documents || Convert.ToHexStringLower(source.GetHashAndReset()) != scan.SourceHash)
                throw new CorpusFormatException($"{sourcePath}: the corpus changed while it was being ingested; ingest again");
            train.Commit();
            validation.Commit();
            documentHashes.Commit();
            (trainTokens, validationTokens) = (train.Tokens, validation.Tokens);
        }
        var split = ValidationSplit.Documents;
        if (byBlocks && BlockSplit.Plan(trainTokens, options.BlockSize, options.ValidationFraction) is { } blocks)
        {
            (trainTokens, validationTokens) = SplitByBlocks(staging, tokenBytes, options.BlockSize, blocks, cancellation);
            split = ValidationSplit.Blocks;
        }
        else if (byBlocks) split = ValidationSplit.None;

        var manifest = new CorpusManifest
        {
            Name = name,
            Tokenizer = tokenizer.Name,
            VocabularySize = tokenizer.VocabularySize,
            EndOfTextId = tokenizer.EndOfTextId,
            TokenBytes = tokenBytes,
            BlockSize = options.BlockSize,
            ValidationFraction = options.ValidationFraction,
            SourceHash = scan.SourceHash,
            TrainDocuments = trainDocuments,
            ValidationDocuments = validationDocuments,
            TrainTokens = trainTokens,
            ValidationTokens = validationTokens,
            TrainBlocks = BlockCount(trainTokens, options.BlockSize),
            ValidationBlocks = BlockCount(validationTokens, options.BlockSize),
            Skipped = scan.Skipped,
            ValidationSplit = split,
            ChecksumChunkBytes = TokenChecksums.ChunkBytes,
        };
        // The manifest goes last: a folder with a manifest is a complete corpus.
        WriteDurably(Path.Combine(staging, CorpusManifest.FileName), manifest.ToJson());
        return manifest;
    }

    /// <summary>
    /// Moves the blocks <paramref name="split"/> holds out from the staged train file (the whole token stream, in order)
    /// into the validation file, block by block through one block's buffer; returns the train and validation tokens.
    /// </summary>
    private static (long Train, long Validation) SplitByBlocks(string staging, int tokenBytes, int blockSize, BlockSplit split, CancellationToken cancellation)
    {
        var stream = Path.Combine(staging, "stream.bin");
        File.Move(Path.Combine(staging, TrainFile), stream);
        File.Delete(Path.Combine(staging, ValidationFile));
        long trainTokens, validationTokens;
        using (var input = new FileStream(stream, FileMode.Open, FileAccess.Read, FileShare.None, 1))
        using (var train = new TokenFileWriter(Path.Combine(staging, TrainFile), tokenBytes))
        using (var validation = new TokenFileWriter(Path.Combine(staging, ValidationFile), tokenBytes))
        {
            var block = new byte[blockSize * tokenBytes];
            for (long i = 0; i < split.Blocks; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                input.ReadExactly(block);
                (split.IsValidation(i) ? validation : train).WriteEncoded(block);
            }
            // The short last block, if any, trains.
            var rest = input.ReadAtLeast(block, block.Length, throwOnEndOfStream: false);
            train.WriteEncoded(block.AsSpan(0, rest));
            train.Commit();
            validation.Commit();
            (trainTokens, validationTokens) = (train.Tokens, validation.Tokens);
        }
        File.Delete(stream);
        return (trainTokens, validationTokens);
    }

    /// <summary>Swaps a complete staged corpus in for the stored one: two renames, then the old one is deleted.</summary>
    private static void Replace(string target, string staging)
    {
        var retired = $"{target}{RetiredInfix}{Guid.NewGuid():N}";
        Directory.Move(target, retired);
        Directory.Move(staging, target);
        Directory.Delete(retired, recursive: true);
    }

    private static CorpusManifest? TryLoad(string directory)
    {
        try
        {
            return CorpusManifest.Load(directory);
        }
        catch (CorpusFormatException)
        {
            return null;
        }
    }

    private static string NoDocuments(string sourcePath, SkipCounts skipped, int maxDocumentBytes)
    {
        var what = skipped.Documents + skipped.Files == 0 ? "nothing in it" : skipped.Describe(maxDocumentBytes);
        // Every document failing to decode is nearly always a whole file in another encoding.
        var hint = skipped.Documents > 0 && skipped.InvalidUtf8 == skipped.Documents ? "; the text must be UTF-8 (convert it, e.g. with iconv)" : "";
        return $"{sourcePath}: no usable documents ({what}){hint}";
    }

    internal static long BlockCount(long tokens, int blockSize) => (tokens + blockSize - 1) / blockSize;

    private static void WriteDurably(string path, string text)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using (var writer = new StreamWriter(file, leaveOpen: true)) writer.Write(text);
        file.Flush(flushToDisk: true);
    }

    /// <summary>1-100 letters, digits, '.', '_' or '-', starting with a letter or digit: safe as a folder name.</summary>
    public static bool IsValidName(string name) => CorpusName().IsMatch(name);

    /// <summary>The regular expression of <see cref="IsValidName"/>.</summary>
    public const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";

    [GeneratedRegex(NamePattern)]
    internal static partial Regex CorpusName();
}
