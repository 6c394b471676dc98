namespace Streaming.Training.Data;

/// <summary>One document of a corpus. <paramref name="Source"/> says where it came from ("file.jsonl:12").</summary>
public sealed record CorpusDocument(string Source, string Text);
