using System.Text.Json;
using System.Text.Json.Serialization;
using Streaming.Training.Model;

namespace Streaming.Training.Checkpoints;

/// <summary>One file of a checkpoint: its SHA-256 (lower-case hex) and its length in bytes.</summary>
public sealed record CheckpointFile(string Sha256, long Bytes);

/// <summary>
/// manifest.json of a checkpoint directory: what it holds and how to check it. Written last into the
/// temporary directory, before the rename that publishes the checkpoint.
/// </summary>
public sealed record CheckpointManifest
{
    /// <summary>The layout version this code writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Layout version of the directory.</summary>
    public required int FormatVersion { get; init; }

    /// <summary>The model shape the weights belong to.</summary>
    public required GptConfig Model { get; init; }

    /// <summary>Optimizer steps taken when it was written.</summary>
    public required long Step { get; init; }

    /// <summary>When it was written.</summary>
    public required DateTimeOffset CreatedUtc { get; init; }

    /// <summary>Names of the caller's JSON parts (files parts/NAME.json).</summary>
    public required IReadOnlyList<string> Parts { get; init; }

    /// <summary>Every other file of the directory, by relative path (forward slashes), with its hash.</summary>
    public required IReadOnlyDictionary<string, CheckpointFile> Files { get; init; }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };
}
