using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Training.Data;

/// <summary>
/// manifest.json of a stored corpus: how it was made and exactly what it holds. The token files are
/// <c>train.bin</c> and <c>valid.bin</c>: little-endian unsigned ids of <see cref="TokenBytes"/> bytes
/// each (2 when the vocabulary fits in 65536 ids, else 4), documents back to back, each followed by
/// <see cref="EndOfTextId"/> when there is one. Block n is tokens [n*BlockSize, (n+1)*BlockSize); the
/// last block may be short.
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

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
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
