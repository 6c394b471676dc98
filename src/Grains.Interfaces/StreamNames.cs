namespace Streaming.Grains;

/// <summary>Names shared by the silo, the grains and tests.</summary>
public static class StreamNames
{
    /// <summary>The memory-stream provider that carries blocks from corpora to trainers.</summary>
    public const string Provider = "blocks";

    /// <summary>The stream namespace; the stream key is the run name, so each trainer gets its own stream.</summary>
    public const string BlocksNamespace = "blocks";

    /// <summary>The grain storage provider for all durable grain state.</summary>
    public const string Storage = "streaming";
}
