using System.Diagnostics;
using System.Threading.Channels;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Training.Schedules;
using static TorchSharp.torch;

namespace Streaming.Training.Loop;

/// <summary>How a run trains: model, optimizer, device, and how many blocks may wait in the queue.</summary>
public sealed record TrainingLoopOptions
{
    public required GptConfig Model { get; init; }
    public AdamWConfig Optimizer { get; init; } = new();
    public TorchOptions Torch { get; init; } = new();
    public ScheduleConfig Schedule { get; init; } = new();
    public int QueueCapacity { get; init; } = 8;
    public long Seed { get; init; } = 1;
}

/// <summary>
/// The training thread of one run. Blocks arrive through a bounded channel from any thread (the trainer
/// grain writes, never waits); one dedicated thread owns the model and does all tensor work, because
/// TorchSharp's dispose scopes and libtorch's grad mode are per thread. Progress is published as an
/// immutable snapshot after every step.
/// </summary>
public sealed class TrainingLoop : IDisposable
{
    readonly TrainingLoopOptions options;
    readonly Channel<TrainingBlock> queue;
    readonly CancellationTokenSource stopping = new();
    readonly Thread thread;
    readonly Dictionary<string, long> tokensTrained = [];
    readonly Dictionary<string, long> nextSequence = [];
    volatile TrainingProgress progress = TrainingProgress.Empty;

    public TrainingLoop(TrainingLoopOptions options)
    {
        this.options = options;
        queue = Channel.CreateBounded<TrainingBlock>(new BoundedChannelOptions(options.QueueCapacity) { SingleReader = true });
        thread = new Thread(Run) { IsBackground = true, Name = "trainer" };
        thread.Start();
    }

    public int QueueCapacity => options.QueueCapacity;

    /// <summary>Blocks waiting to be trained.</summary>
    public int Queued => queue.Reader.Count;

    public TrainingProgress Progress => progress;

    /// <summary>Queues a block; false when the queue is full (the caller asked for more than it had room for).</summary>
    public bool TryEnqueue(TrainingBlock block) => queue.Writer.TryWrite(block);

    void Run()
    {
        try
        {
            var device = TorchRuntime.Initialize(options.Torch);
            using var trainer = new ModelTrainer(options.Model, options.Optimizer, new TrainerOptions { Seed = options.Seed }, device);
            var schedule = new LearningRateSchedule(options.Schedule);
            string? task = null;
            var reader = queue.Reader;
            var clock = Stopwatch.StartNew();
            double firstLoss = double.NaN, tokensPerSecond = 0;
            while (reader.WaitToReadAsync(stopping.Token).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var block))
                {
                    var started = clock.Elapsed;
                    if (block.Corpus != task)
                    {
                        // A new corpus is a new task: the schedule decides what that means (infinite: nothing re-warms).
                        schedule.TaskStarted(block.TaskSteps);
                        task = block.Corpus;
                    }
                    var learningRate = schedule.LearningRate;
                    var phase = schedule.PhaseName;
                    float loss;
                    using (NewDisposeScope())
                    {
                        var (inputs, targets) = BlockBatch.Make(block.Tokens, options.Model.Context, device);
                        loss = trainer.TrainStep(inputs, targets, learningRate);
                    }
                    schedule.StepTaken();
                    if (double.IsNaN(firstLoss)) firstLoss = loss;
                    var rate = block.Tokens.Length / Math.Max(1e-9, (clock.Elapsed - started).TotalSeconds);
                    tokensPerSecond = tokensPerSecond == 0 ? rate : 0.9 * tokensPerSecond + 0.1 * rate;
                    tokensTrained[block.Corpus] = tokensTrained.GetValueOrDefault(block.Corpus) + block.Tokens.Length;
                    nextSequence[block.Corpus] = block.Sequence + 1;
                    progress = new TrainingProgress(trainer.Step, loss, firstLoss, learningRate, phase,
                        tokensPerSecond, new Dictionary<string, long>(tokensTrained), new Dictionary<string, long>(nextSequence), device.ToString(), null);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            progress = progress with { Phase = "failed", Error = e.Message };
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        queue.Writer.TryComplete();
        thread.Join();
        stopping.Dispose();
    }
}
