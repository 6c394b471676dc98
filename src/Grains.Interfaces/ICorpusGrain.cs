namespace Streaming.Grains;

/// <summary>One corpus (keyed by its name): ingests text into blocks and publishes them to a run on request.</summary>
public interface ICorpusGrain : IGrainWithStringKey
{
    /// <summary>Reads and tokenizes the source, stores its blocks, and attaches the corpus to a run.</summary>
    [ResponseTimeout("00:10:00")]
    Task<CorpusInfo> IngestAsync(IngestRequest request);

    /// <summary>Publishes blocks [from, from + count) on the run's stream; blocks past the end are not sent.</summary>
    Task<int> PublishAsync(string run, long from, int count);

    Task<CorpusInfo> GetInfoAsync();
}

[GenerateSerializer, Immutable]
public sealed record IngestRequest(
    [property: Id(0)] string Run,
    [property: Id(1)] string Path);

[GenerateSerializer, Immutable]
public sealed record CorpusInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Source,
    [property: Id(2)] long Blocks,
    [property: Id(3)] long Tokens);
