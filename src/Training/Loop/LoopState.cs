using System.Collections.Immutable;
using Streaming.Training.Checkpoints;
using Streaming.Training.Evaluation;

namespace Streaming.Training.Loop;

/// <summary>
/// Everything the training loop knows that the model, the optimizer and the schedule do not: the tasks it has
/// started, how far it has read and trained each corpus, the releases and loss-matrix snapshots so far, the anneals
/// done, the first and the latest loss. One definition: it is saved in every checkpoint as is (part
/// <see cref="PartName"/>), restored from it on resume, and published in <see cref="TrainingProgress.State"/>, so
/// adding a field is one edit. Immutable: the training thread replaces it after each change.
/// </summary>
public sealed record LoopState
{
    /// <summary>The checkpoint part that holds it.</summary>
    public const string PartName = "loop";

    /// <summary>The run's corpora in the order their tasks started; the last is the task being trained.</summary>
    public ImmutableList<string> Tasks { get; init; } = [];

    /// <summary>Tokens of each corpus the main trajectory trained on (what the model carries forward).</summary>
    public ImmutableDictionary<string, long> TokensTrained { get; init; } = ImmutableDictionary<string, long>.Empty;

    /// <summary>Tokens of each corpus that only an anneal branch trained on: the last blocks of a task under the paper
    /// protocol, which its release saw and the main trajectory, going on from the fork, did not.</summary>
    public ImmutableDictionary<string, long> TokensAnnealOnly { get; init; } = ImmutableDictionary<string, long>.Empty;

    /// <summary>The cursors: the next block of each corpus to read (every block before it is trained or anneal-only).</summary>
    public ImmutableDictionary<string, long> NextSequence { get; init; } = ImmutableDictionary<string, long>.Empty;

    /// <summary>Snapshots that are loss-matrix rows or releases, in order (the evaluators' input that must not be lost).</summary>
    public ImmutableList<Snapshot> TaskSnapshots { get; init; } = [];
    public ImmutableList<ReleaseReport> Releases { get; init; } = [];

    /// <summary>The id of the last on-demand anneal released (0: none).</summary>
    public long AnnealsDone { get; init; }

    /// <summary>Tokens of earlier corpora replayed into batches (on top of the new tokens).</summary>
    public long ReplayTokens { get; init; }

    /// <summary>Steps skipped because their loss or gradient was NaN or infinite (the block is read, the weights unchanged).</summary>
    public long SkippedSteps { get; init; }
    public double? FirstLoss { get; init; }
    public double? LastLoss { get; init; }

    public static readonly LoopState Empty = new();

    /// <summary>A block was read: trained by the main trajectory, or only by an anneal branch.</summary>
    public LoopState Read(TrainingBlock block, bool annealOnly) => this with
    {
        TokensTrained = annealOnly ? TokensTrained : Add(TokensTrained, block.Corpus, block.Tokens.Length),
        TokensAnnealOnly = annealOnly ? Add(TokensAnnealOnly, block.Corpus, block.Tokens.Length) : TokensAnnealOnly,
        NextSequence = NextSequence.SetItem(block.Corpus, block.Sequence + 1),
    };

    /// <summary>The loop's state as saved in <paramref name="checkpoint"/> (checked against its manifest; no tensor is read).</summary>
    public static LoopState ReadFrom(string checkpoint) => Checkpoint.ReadPart<LoopState>(checkpoint, PartName);

    static ImmutableDictionary<string, long> Add(ImmutableDictionary<string, long> counts, string corpus, long tokens) =>
        counts.SetItem(corpus, counts.GetValueOrDefault(corpus) + tokens);
}
