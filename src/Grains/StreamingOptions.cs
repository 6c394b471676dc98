using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Schedules;

namespace Streaming.Grains;

/// <summary>Silo-wide training settings, bound from configuration by the host.</summary>
public sealed class StreamingOptions
{
    public string DataDirectory { get; set; } = "data";

    /// <summary>Where grain state lives: sqlite (one file under <see cref="DataDirectory"/>, the default),
    /// redis (<see cref="RedisConnectionString"/>, for clusters) or memory (lost when the silo stops).</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>The Redis server(s) for <c>Storage = "redis"</c>, in StackExchange.Redis syntax, e.g. <c>redis:6379</c>.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>This silo's device label, <c>cuda</c> or <c>cpu</c> (silo metadata <c>streaming.accelerator</c>): trainers
    /// go to cuda silos when the cluster has any. The host sets it from the device libtorch initialized.</summary>
    public string Accelerator { get; set; } = "cpu";

    /// <summary>How many runs this silo should train at the same time (silo metadata <c>streaming.trainers</c>): one per GPU;
    /// on CPU one training thread, leaving room for evaluators and Orleans. Advice for clients that start several runs
    /// (<c>IRunRegistryGrain.GetTrainerSlotsAsync</c>); the silo does not enforce it.</summary>
    public int TrainerSlots { get; set; } = 1;

    /// <summary>Where reminders live: silo (one silo's own memory; lost with it), memory (Orleans' table in a grain, for
    /// several silos in one process, as test clusters run) or redis (<see cref="RedisConnectionString"/>, shared, so a
    /// surviving silo wakes the trainers of a dead one).</summary>
    public string Reminders { get; set; } = "memory";

    /// <summary>Period of the reminder that keeps a run with unfinished work alive (and wakes it elsewhere after a
    /// silo failure). Orleans refuses periods under <c>ReminderOptions.MinimumReminderPeriod</c> (1 minute by default).</summary>
    public TimeSpan KeepAlivePeriod { get; set; } = TimeSpan.FromMinutes(1);

    public TorchOptions Torch { get; set; } = new();
    public GptConfig Model { get; set; } = GptConfig.Tiny;
    /// <summary>The learning-rate schedule of new runs: infinite by default, with rates for small models.</summary>
    public ScheduleConfig Schedule { get; set; } = new()
    {
        Kind = "infinite", MaxLr = 2e-3, ConstLr = 1.1e-3, MinLr = 2e-4, WarmupSteps = 20, CooldownSteps = 150, AnnealFraction = 0.15,
    };

    /// <summary>The tokenizer corpora are ingested with: byte (256 ids), cl100k_base or o200k_base.</summary>
    public string Tokenizer { get; set; } = "byte";

    /// <summary>Tokens per block; one block is one optimizer step (rows of the model's context).</summary>
    public int BlockTokens { get; set; } = 32 * 128 + 1;

    /// <summary>Optimizer steps between checkpoints (one is also written at the end of every task).</summary>
    public int CheckpointEvery { get; set; } = 50;

    /// <summary>Main-trajectory steps between evaluations of the live model (0: only task ends and releases).</summary>
    public int EvaluateEvery { get; set; } = 100;

    /// <summary>At most this many validation blocks per corpus are evaluated per snapshot.</summary>
    public int ValidationBlocks { get; set; } = 8;

    /// <summary>Main-cadence snapshots that may wait for a run's evaluator; older ones are passed over (loss-matrix rows and
    /// releases always wait their turn).</summary>
    public int MaxWaitingMainSnapshots { get; set; } = 4;

    /// <summary>Blocks in flight or queued per run: the credit window that bounds memory.</summary>
    public int Window { get; set; } = 8;

    /// <summary>How long a run that has trained everything keeps its model and optimizer in memory before it lets go of
    /// them (a new corpus within that time trains at once, without loading them again).</summary>
    public TimeSpan FinishedRunKeptFor { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Below this many bytes free on the data folder's volume the silo is not ready (/health/ready): a checkpoint
    /// of a gpt2-small run is about 1.5 GB.</summary>
    public long MinFreeDataBytes { get; set; } = 512L << 20;

    /// <summary>Replay mixing: the fraction of every batch drawn from earlier corpora (0, the default: none).</summary>
    public double ReplayFraction { get; set; }

    /// <summary>The folders a corpus path that a client names must lie in, symbolic links resolved (<see cref="CorpusRoots"/>
    /// checks it); empty, the default: any path the silo can read, as for a silo on one's own machine. URLs are not paths
    /// and are allowed either way.</summary>
    public List<string> CorpusRoots { get; set; } = [];

    /// <summary>A corpus downloaded from a URL may be at most this many bytes (as sent, compressed or not).</summary>
    public long MaxDownloadBytes { get; set; } = 10240L << 20;

    /// <summary>A corpus a client uploads (<see cref="IUploadGrain"/>; all the files of a folder together) may be at most this many bytes.</summary>
    public long MaxUploadBytes { get; set; } = 10240L << 20;

    /// <summary>An upload nobody has touched for this long, finished or not, is removed (<see cref="UploadSweeper"/>).</summary>
    public TimeSpan UploadRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a download may wait for the server's answer, or for the next bytes of its body, before it fails.</summary>
    public TimeSpan DownloadIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
