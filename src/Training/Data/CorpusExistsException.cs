namespace Streaming.Training.Data;

/// <summary>
/// A different corpus (other documents or settings) is already stored under this name, and
/// <see cref="IngestOptions.Overwrite"/> is off. An <see cref="InvalidOperationException"/>, so callers
/// that only know that contract still treat it as a refusal.
/// </summary>
public sealed class CorpusExistsException(string name, string directory)
    : InvalidOperationException($"corpus '{name}' is already stored in {directory} with other content or settings; ingest with overwrite to replace it")
{
    public string Name { get; } = name;
    public string Directory { get; } = directory;
}
