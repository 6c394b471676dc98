using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Training.Data;

/// <summary>
/// manifest.json of a stored corpus: how it was made and exactly what it holds. The token files are
/// <c>train.bin</c> and <c>valid.bin</c>: little-endian unsigned ids of <see cref="TokenBytes"/> bytes
/// each (2 when the vocabulary fits in 65536 ids, else 4), documents back to back, each followed by
/// <see cref="EndOfTextId"/> when there is one. Block n is tokens [n*BlockSize, (n+1)*BlockSize); the
/// last block may be short. <see cref="ValidationSplit"/> says how the validation part was held out; when by
/// blocks, the documents are counted as train documents (they are on both sides).
/// </summary>
public sealed record CorpusManifest
{
    public const int CurrentFormatVersion = 1;
    public const string FileName = "manifest.json";

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Name { get; init; }
    public required string Tokenizer { get; init; }
    public required int VocabularySize { get; init; }
    public int? EndOfTextId { get; init; }
    public required int TokenBytes { get; init; }
    public required int BlockSize { get; init; }
    public required double ValidationFraction { get; init; }

    /// <summary>SHA-256 (hex) over the SHA-256 of every accepted document in reading order.</summary>
    public required string SourceHash { get; init; }

    public required long TrainDocuments { get; init; }
    public required long ValidationDocuments { get; init; }
    public required long TrainTokens { get; init; }
    public required long ValidationTokens { get; init; }
    public required long TrainBlocks { get; init; }
    public required long ValidationBlocks { get; init; }
    public required SkipCounts Skipped { get; init; }

    /// <summary>The token files' checksums (<see cref="TokenChecksums"/>): the bytes each covers, checked by every read. Null for
    /// a corpus stored before checksums were written: its files are read unchecked, as they always were.</summary>
    public int? ChecksumChunkBytes { get; init; }

    /// <summary>How validation was held out; manifests written before this field were split by documents.</summary>
    public ValidationSplit ValidationSplit { get; init; } = ValidationSplit.Documents;

    /// <summary>
    /// Null when the corpus has validation tokens to measure a loss on (at least two: one predicts the next); else why
    /// not, in one line that starts "no validation split: corpus NAME", fit to print next to a missing loss.
    /// </summary>
    public string? MissingValidation()
    {
        if (ValidationTokens >= 2) return null;
        var documents = TrainDocuments + ValidationDocuments;
        var why = ValidationSplit switch
        {
            ValidationSplit.None =>
                $"is {(documents == 1 ? "one document" : $"{documents:N0} copies of one document")} of {TrainTokens:N0} tokens, too small to hold out " +
                $"a validation block (it needs {BlockSplit.MinimumTokens(BlockSize):N0} tokens: a block of {BlockSize:N0} to train and one to validate)",
            _ when ValidationFraction == 0 => "was stored with a validation fraction of 0",
            _ when ValidationTokens == 0 =>
                $"was stored by an earlier version, which held out no document of {(documents == 1 ? "its one document" : $"its {documents:N0} identical documents")}; " +
                "ingest its source again under another --name to hold out whole blocks",
            _ => $"holds out only {ValidationTokens} validation token, too few to measure a loss on",
        };
        return $"no validation split: corpus {Name} {why}";
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <exception cref="CorpusFormatException">Missing or unreadable manifest.</exception>
    public static CorpusManifest Load(string corpusDirectory)
    {
        var path = Path.Combine(corpusDirectory, FileName);
        if (!File.Exists(path)) throw new CorpusFormatException($"{corpusDirectory}: no stored corpus here ({FileName} missing)");
        try
        {
            var manifest = JsonSerializer.Deserialize<CorpusManifest>(File.ReadAllText(path), Json)
                ?? throw new CorpusFormatException($"{path}: empty manifest");
            if (manifest.FormatVersion != CurrentFormatVersion)
                throw new CorpusFormatException($"{path}: format version {manifest.FormatVersion}, this build reads {CurrentFormatVersion}");
            return manifest;
        }
        catch (JsonException e)
        {
            throw new CorpusFormatException($"{path}: unreadable manifest ({e.Message.Split('\n')[0]})");
        }
    }
}

/// <summary>How a corpus' validation part was held out (<see cref="CorpusManifest.ValidationSplit"/>).</summary>
public enum ValidationSplit
{
    /// <summary>By document (<see cref="DocumentSplit"/>): a corpus with two distinct documents or more.</summary>
    Documents,

    /// <summary>Whole blocks of the token stream (<see cref="BlockSplit"/>): a corpus of one distinct document.</summary>
    Blocks,

    /// <summary>Nothing: one distinct document too small to hold out a block; every token trains.</summary>
    None,
}
