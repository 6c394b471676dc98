using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Training.Checkpoints;
using Streaming.Training.Engine;
using Streaming.Training.Loop;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using Streaming.Training.Threading;

namespace Streaming.Training.Evaluation;

/// <summary>
/// Evaluates snapshots on a thread of its own, beside training: it loads each snapshot into its own model
/// and measures the validation loss on every corpus the snapshot had seen. The training thread only saves
/// files; it never waits for an evaluation. Results are collected with <see cref="TakeResults"/>.
/// </summary>
public sealed class EvaluationWorker : IDisposable
{
    readonly AdamWConfig optimizer;
    readonly TorchOptions torch;
    readonly ICorpusData data;
    readonly Channel<Snapshot> queue = Channel.CreateUnbounded<Snapshot>(new UnboundedChannelOptions { SingleReader = true });
    readonly ConcurrentQueue<SnapshotEvaluation> results = new();
    readonly Thread thread;
    readonly CancellationTokenSource stopping = new();
    readonly ILogger logger;
    volatile int pending;
    volatile string? failure;

    public EvaluationWorker(AdamWConfig optimizer, TorchOptions torch, ICorpusData data, ILogger? logger = null)
    {
        (this.optimizer, this.torch, this.data, this.logger) = (optimizer, torch, data, logger ?? NullLogger.Instance);
        thread = WorkerThread.Start("evaluator", Run, this.logger, e => failure = WorkerThread.OneLine(e));
    }

    /// <summary>Why the worker stopped taking snapshots (its thread failed outside any one evaluation); null while it works.</summary>
    public string? Failure => failure;

    /// <summary>Snapshots queued or being evaluated.</summary>
    public int Pending => pending;

    public void Enqueue(Snapshot snapshot)
    {
        Interlocked.Increment(ref pending);
        if (!queue.Writer.TryWrite(snapshot)) Interlocked.Decrement(ref pending);
    }

    /// <summary>The evaluations finished since the last call, in order.</summary>
    public List<SnapshotEvaluation> TakeResults()
    {
        var taken = new List<SnapshotEvaluation>();
        while (results.TryDequeue(out var result)) taken.Add(result);
        return taken;
    }

    void Run()
    {
        ModelTrainer? trainer = null;
        try
        {
            foreach (var snapshot in queue.Reader.ReadAllAsync(stopping.Token).ToBlockingEnumerable())
            {
                try
                {
                    // The snapshot says what model it holds (a run's vocabulary is its tokenizer's).
                    var model = Checkpoint.ReadManifest(snapshot.Path).Model;
                    if (trainer?.ModelConfig != model)
                    {
                        trainer?.Dispose();
                        trainer = new ModelTrainer(model, optimizer, device: TorchRuntime.Initialize(torch));
                    }
                    trainer.Load(snapshot.Path);
                    results.Enqueue(new SnapshotEvaluation(snapshot, ValidationLoss.Of(trainer, snapshot.Corpora, data)));
                }
                catch (Exception e)
                {
                    // One snapshot that cannot be evaluated (deleted, corrupt, a model that does not fit) fails alone.
                    logger.LogError(e, "cannot evaluate {Snapshot}: {Error}", snapshot.Path, e.Message);
                    results.Enqueue(new SnapshotEvaluation(snapshot, new Dictionary<string, double>(), WorkerThread.OneLine(e)));
                }
                finally
                {
                    Interlocked.Decrement(ref pending);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped with snapshots still queued: their owner keeps them and queues them again.
        }
        finally
        {
            trainer?.Dispose();
        }
    }

    /// <summary>Stops after the evaluation in progress, if any.</summary>
    public void Dispose()
    {
        stopping.Cancel();
        queue.Writer.TryComplete();
        thread.Join();
        stopping.Dispose();
    }
}
