using System.Net;
using Streaming.Grains;
using Streaming.Grains.Placement;

namespace Streaming.Silo;

/// <summary>What the command line sets on the silo; everything else has a default.</summary>
public sealed record SiloSettings
{
    /// <summary>The service's defaults have one home, <see cref="StreamingOptions"/>; flags only override them.</summary>
    static readonly StreamingOptions Defaults = new();

    /// <summary>The membership choices of <see cref="Cluster"/>.</summary>
    public static readonly IReadOnlyList<string> ClusterKinds = ["localhost", "redis"];

    public int HttpPort { get; init; } = 8080;
    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;
    public string DataDirectory { get; init; } = Defaults.DataDirectory;
    public string Device { get; init; } = "auto";
    public string? LibTorch { get; init; }
    public int Threads { get; init; } = 1;
    public int CheckpointEvery { get; init; } = Defaults.CheckpointEvery;

    /// <summary>How many runs this silo should train at the same time (advice for clients; see <see cref="StreamingOptions.TrainerSlots"/>).</summary>
    public int Trainers { get; init; } = Defaults.TrainerSlots;

    /// <summary>Main-trajectory steps between evaluations of the live model (0: only task ends and releases).</summary>
    public int EvaluateEvery { get; init; } = Defaults.EvaluateEvery;

    /// <summary>Below this many MiB free on the data folder's volume the silo is not ready (/health/ready).</summary>
    public int MinFreeMiB { get; init; } = (int)(Defaults.MinFreeDataBytes >> 20);

    /// <summary>Replay mixing: the fraction of every batch drawn from earlier corpora (0: none).</summary>
    public double ReplayFraction { get; init; } = Defaults.ReplayFraction;

    /// <summary>Grain state: sqlite (a file under the data folder), redis (<see cref="Redis"/>) or memory.</summary>
    public string Storage { get; init; } = Defaults.Storage;
    public string? Redis { get; init; }

    /// <summary>Membership: localhost (one silo on this machine) or redis (any number of silos sharing <see cref="Redis"/>).</summary>
    public string Cluster { get; init; } = "localhost";

    /// <summary>With <c>Cluster = redis</c>: the address other silos and clients reach this silo at; null lets Orleans pick.</summary>
    public string? AdvertiseIp { get; init; }

    /// <summary>The cluster credential's PFX (<see cref="Streaming.Security.CredentialLocation"/>); null: the user's default file,
    /// created at the first start.</summary>
    public string? Credentials { get; init; }

    /// <summary>The folders corpus paths must lie in, comma-separated (<see cref="StreamingOptions.CorpusRoots"/>); null: any path.</summary>
    public string? CorpusRoots { get; init; }

    /// <summary><see cref="CorpusRoots"/> as a list of absolute folders; empty when unset.</summary>
    public IReadOnlyList<string> CorpusRootFolders =>
        CorpusRoots is null ? [] : [.. CorpusRoots.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFullPath)];

    /// <summary>The largest corpus a URL may bring, in MiB (<see cref="StreamingOptions.MaxDownloadBytes"/>).</summary>
    public int MaxDownloadMiB { get; init; } = (int)(Defaults.MaxDownloadBytes >> 20);

    /// <summary>The largest corpus a client may upload, in MiB (<see cref="StreamingOptions.MaxUploadBytes"/>).</summary>
    public int MaxUploadMiB { get; init; } = (int)(Defaults.MaxUploadBytes >> 20);

    /// <summary>This silo's label for placement (cuda or cpu), from the device libtorch initialized.</summary>
    public string Accelerator { get; init; } = SiloAccelerator.Cpu;

    /// <summary>Corpus files to train on, one task each, in order; with them the silo runs the demo and exits.</summary>
    public IReadOnlyList<string> Demo { get; init; } = [];

    /// <summary>Whether the silo needs Redis at all (for membership, reminders or grain state).</summary>
    public bool UsesRedis => Cluster == "redis" || Storage.Trim().Equals("redis", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks the clustering and storage flags together; a bad combination throws <see cref="ArgumentException"/>
    /// with a one-line message.</summary>
    public void Validate()
    {
        if (ReplayFraction is < 0 or >= 1 || double.IsNaN(ReplayFraction))
            throw new ArgumentException($"--replay must be a fraction in [0, 1), not {ReplayFraction}");
        if (EvaluateEvery < 0) throw new ArgumentException($"--evaluate-every must be 0 (off) or more, not {EvaluateEvery}");
        if (CheckpointEvery < 1) throw new ArgumentException($"--checkpoint-every must be at least 1, not {CheckpointEvery}");
        if (Trainers < 1) throw new ArgumentException($"--trainers must be at least 1, not {Trainers}");
        if (MinFreeMiB < 0) throw new ArgumentException($"--min-free-mb must be 0 (no floor) or more, not {MinFreeMiB}");
        if (MaxDownloadMiB < 1) throw new ArgumentException($"--max-download-mb must be at least 1, not {MaxDownloadMiB}");
        if (MaxUploadMiB < 1) throw new ArgumentException($"--max-upload-mb must be at least 1, not {MaxUploadMiB}");
        // Set but empty would silently mean "any path": the opposite of what whoever set it wanted.
        if (CorpusRoots is not null && CorpusRootFolders.Count == 0)
            throw new ArgumentException("--corpus-roots names no folder: give at least one, or leave it unset to allow any path");
        if (!ClusterKinds.Contains(Cluster))
            throw new ArgumentException($"unknown clustering '{Cluster}': use one of {string.Join(", ", ClusterKinds)}");
        if (Cluster == "redis") StreamingSiloBuilderExtensions.ParseRedis(Redis, "--cluster redis");
        var storage = StreamingSiloBuilderExtensions.ValidateStorage(new StreamingOptions { Storage = Storage, RedisConnectionString = Redis });
        if (Cluster == "localhost")
        {
            if (AdvertiseIp is not null)
                throw new ArgumentException("--advertise-ip needs --cluster redis (localhost clustering listens on 127.0.0.1 only)");
            return;
        }
        // Every silo must see the same grain state, or a trainer that fails over would start from nothing.
        if (storage != "redis")
            throw new ArgumentException($"--cluster redis needs grain state that all silos share: use --storage redis, not {storage}");
        if (AdvertiseIp is not null && !IPAddress.TryParse(AdvertiseIp, out _))
            throw new ArgumentException($"--advertise-ip '{AdvertiseIp}' is not an IP address");
    }
}
