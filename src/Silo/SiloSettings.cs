namespace Streaming.Silo;

/// <summary>What the command line sets on the silo; everything else has a default.</summary>
public sealed record SiloSettings
{
    public int HttpPort { get; init; } = 8080;
    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;
    public string DataDirectory { get; init; } = "data";
    public string Device { get; init; } = "auto";
    public string? LibTorch { get; init; }
    public int Threads { get; init; } = 1;
    public int CheckpointEvery { get; init; } = 50;

    /// <summary>Grain state: sqlite (a file under the data folder), redis (<see cref="Redis"/>) or memory.</summary>
    public string Storage { get; init; } = "sqlite";
    public string? Redis { get; init; }

    /// <summary>Corpus files to train on, one task each, in order; with them the silo runs the demo and exits.</summary>
    public IReadOnlyList<string> Demo { get; init; } = [];
}
