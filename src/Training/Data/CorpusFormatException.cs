namespace Streaming.Training.Data;

/// <summary>
/// Input that cannot be read as a corpus (missing path, empty or binary file named explicitly,
/// unknown extension, missing parquet column, corrupt block store). The message is one line that
/// names the path and the problem, fit to print as a CLI error.
/// </summary>
public sealed class CorpusFormatException(string message) : Exception(message);
