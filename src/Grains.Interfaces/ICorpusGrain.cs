using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>One corpus (keyed by its name): ingests text into blocks and queues it on runs; <see cref="ICorpusBlocksGrain"/> serves the blocks.</summary>
public interface ICorpusGrain : IGrainWithStringKey
{
    /// <summary>
    /// Reads and tokenizes the source, stores its blocks, and attaches the corpus to a run. The same source on
    /// another run attaches the stored blocks to that run too (read again only to check it is unchanged, not
    /// tokenized again); the run must use the tokenizer they were stored with (a run without corpora adopts it).
    /// The same text as another corpus of the run (by content hash) is refused unless <see cref="IngestRequest.AllowDuplicate"/>;
    /// documents that other corpora of the run hold too are counted (<see cref="IngestResult.AlsoIn"/>).
    /// Bad input or a refusal throws <see cref="IngestFailedException"/> (one line); the name stays free after a
    /// failed first ingest, and a corpus stays on its other runs after a failed attach.
    /// Long: callers show <see cref="GetIngestProgressAsync"/> meanwhile.
    /// </summary>
    [ResponseTimeout("01:00:00")]
    Task<IngestResult> IngestAsync(IngestRequest request);

    /// <summary>How far the ingest in progress has got; null when none is running. Answers during an ingest.</summary>
    [AlwaysInterleave]
    Task<IngestProgressInfo?> GetIngestProgressAsync();

    Task<CorpusInfo> GetInfoAsync();
}

/// <summary>What to ingest and for which run; <paramref name="Run"/> null stores the corpus for runs to attach later
/// (e.g. `streaming compare`, which checks every corpus before any run trains) without queuing it anywhere.
/// <paramref name="AllowDuplicate"/>: queue it even when another corpus of the run holds the same text (`--allow-duplicate`).
/// <paramref name="Upload"/>: the id of a complete upload (<see cref="IUploadGrain"/>) that the silo reads instead of a path of
/// its own; <paramref name="Path"/> is then the client's path of the uploaded file or folder, which names the source in
/// messages and identifies it (the same path again is the same source, checked unchanged).</summary>
[GenerateSerializer, Immutable]
public sealed record IngestRequest(
    [property: Id(0)] string? Run,
    [property: Id(1)] string Path,
    // The run's tokenizer when this is its first corpus (null: the silo's default, or a stored corpus' own); later corpora must match it.
    [property: Id(2)] string? Tokenizer = null,
    [property: Id(3)] bool AllowDuplicate = false,
    [property: Id(4)] string? Upload = null);

/// <summary>A corpus as a run knows it: its train blocks and tokens.</summary>
[GenerateSerializer, Immutable]
public sealed record CorpusInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Source,
    [property: Id(2)] long Blocks,
    [property: Id(3)] long Tokens);

/// <summary>
/// What an ingest did: the corpus as queued (train blocks and tokens), the documents kept, and what was
/// skipped, and the size of the source files read. <see cref="AlreadyQueued"/>: the same source was ingested
/// on this run before; nothing changed. <see cref="NoValidation"/>: why the corpus has no validation tokens to
/// evaluate on (one line, "no validation split: corpus NAME ..."), null when it has. <see cref="AlsoIn"/>: the
/// other corpora of the run that hold some of its documents too, and how many (null from silos before it).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IngestResult(
    [property: Id(0)] string Name,
    [property: Id(1)] string Source,
    [property: Id(2)] long Blocks,
    [property: Id(3)] long Tokens,
    [property: Id(4)] long Documents,
    [property: Id(5)] long ValidationTokens,
    [property: Id(6)] IngestSkips Skipped,
    [property: Id(7)] bool AlreadyQueued,
    [property: Id(8)] long SourceBytes,
    [property: Id(9)] string? NoValidation = null,
    [property: Id(10)] IReadOnlyList<SharedDocuments>? AlsoIn = null)
{
    public CorpusInfo Info => new(Name, Source, Blocks, Tokens);

    /// <summary>
    /// "1,234,567 tokens in 301 blocks to train, 61,000 to validate, from 1,200 documents (skipped 3 documents:
    /// 2 invalid UTF-8, 1 over 16 MiB)". Documents count both parts, so the validation tokens are said too, and
    /// why there are none when there are none, and the documents other corpora of the run hold too
    /// ("; 12 documents also in corpus english of this run").
    /// </summary>
    public string Describe() =>
        $"{Count(Tokens, "token")} in {Count(Blocks, "block")} to train, {ValidationTokens:N0} to validate, from {Count(Documents, "document")}"
        + (Skipped.Summary.Length > 0 ? $" ({Skipped.Summary})" : "")
        + (NoValidation is { } why ? $"; {why}" : "")
        + string.Concat((AlsoIn ?? []).Select(s => $"; {Count(s.Documents, "document")} also in corpus {s.Corpus} of this run"));

    static string Count(long n, string noun) => $"{n:N0} {noun}{(n == 1 ? "" : "s")}";
}

/// <summary>Documents of an ingested corpus that another corpus of the same run holds too (exact copies, by content hash).</summary>
[GenerateSerializer, Immutable]
public sealed record SharedDocuments(
    [property: Id(0)] string Corpus,
    [property: Id(1)] long Documents);

/// <summary>Documents and files an ingest skipped instead of failing, by reason; <see cref="Summary"/> says it in words.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestSkips(
    [property: Id(0)] long InvalidUtf8,
    [property: Id(1)] long TooLarge,
    [property: Id(2)] long MalformedJson,
    [property: Id(3)] long MissingText,
    [property: Id(4)] long EmptyDocuments,
    [property: Id(5)] long EmptyFiles,
    [property: Id(6)] long BinaryFiles,
    [property: Id(7)] long UnsupportedFiles,
    [property: Id(8)] string Summary)
{
    public long Documents => InvalidUtf8 + TooLarge + MalformedJson + MissingText + EmptyDocuments;
    public long Files => EmptyFiles + BinaryFiles + UnsupportedFiles;
}

/// <summary>
/// A snapshot of an ingest in progress. Phase <see cref="ScanPhase"/> reads and hashes the source,
/// <see cref="TokenizePhase"/> reads it again and writes blocks; each runs <see cref="BytesRead"/> from 0 to
/// <see cref="TotalBytes"/>. The silo passes on the training library's phase names; a test keeps them equal.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IngestProgressInfo(
    [property: Id(0)] string Corpus,
    [property: Id(1)] string Phase,
    [property: Id(2)] long BytesRead,
    [property: Id(3)] long TotalBytes,
    [property: Id(4)] long Documents,
    [property: Id(5)] long Tokens,
    [property: Id(6)] long SkippedDocuments)
{
    public const string ScanPhase = "scan";
    public const string TokenizePhase = "tokenize";

    /// <summary>Before <see cref="ScanPhase"/>, for a URL: the silo downloads it (<see cref="TotalBytes"/> 0 while the server
    /// has not said how long it is).</summary>
    public const string DownloadPhase = "download";

    /// <summary>Before an upload, on the client: it hashes the local file(s), which name the upload.</summary>
    public const string HashPhase = "hash";

    /// <summary>Before <see cref="ScanPhase"/>, for a local file sent to the cluster: the client uploads it.</summary>
    public const string UploadPhase = "upload";
}

/// <summary>
/// An ingest that failed or was refused: bad input, a name already taken, an unreadable path. The message
/// is one line that says what to do, fit to print as a CLI error.
/// </summary>
[GenerateSerializer]
public class IngestFailedException : Exception
{
    public IngestFailedException() { }

    public IngestFailedException(string message) : base(message) { }
}

/// <summary>The client lost contact with the silo during an ingest: no answer came, so the ingest may go on there, may
/// have queued the corpus, or may have died with the silo. Asking again is safe (the same source on the same run is
/// found queued).</summary>
[GenerateSerializer]
public sealed class IngestContactLostException : IngestFailedException
{
    public IngestContactLostException() { }

    public IngestContactLostException(string message) : base(message) { }
}
