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

    /// <summary>Steps whose update the weights do not carry: skipped because their loss or gradient was NaN or infinite (the
    /// block is read, the weights unchanged), and the steps since the checkpoint a rollback went back to.</summary>
    public long SkippedSteps { get; init; }

    /// <summary>Of the tokens read (<see cref="TokensTrained"/> and <see cref="TokensAnnealOnly"/>), those of each corpus in
    /// skipped steps: their blocks are passed over for good, never read again.</summary>
    public ImmutableDictionary<string, long> TokensSkipped { get; init; } = ImmutableDictionary<string, long>.Empty;

    /// <summary>Times the loop went back to its last checkpoint after too many skipped steps in a row.</summary>
    public int Rollbacks { get; init; }

    /// <summary>The loss-spike detector: its averages, the spikes reported and the last one.</summary>
    public LossSpikes LossSpikes { get; init; } = LossSpikes.Empty;
    public double? FirstLoss { get; init; }
    public double? LastLoss { get; init; }

    public static readonly LoopState Empty = new();

    /// <summary>A block was read: trained by the main trajectory, or only by an anneal branch; or passed over in a skipped step.</summary>
    public LoopState Read(TrainingBlock block, bool annealOnly, bool skipped) => this with
    {
        TokensSkipped = skipped ? Add(TokensSkipped, block.Corpus, block.Tokens.Length) : TokensSkipped,
        TokensTrained = annealOnly ? TokensTrained : Add(TokensTrained, block.Corpus, block.Tokens.Length),
        TokensAnnealOnly = annealOnly ? Add(TokensAnnealOnly, block.Corpus, block.Tokens.Length) : TokensAnnealOnly,
        NextSequence = NextSequence.SetItem(block.Corpus, block.Sequence + 1),
    };

    /// <summary>Tokens of <paramref name="corpus"/> read so far, by the main trajectory or an anneal branch.</summary>
    public long TokensRead(string corpus) => TokensTrained.GetValueOrDefault(corpus) + TokensAnnealOnly.GetValueOrDefault(corpus);

    /// <summary>This state after going back to the weights of <paramref name="checkpoint"/>: the cursors stay, and every step
    /// and token read since then (<paramref name="stepsSince"/> steps) counts as skipped, on top of what was skipped up to it.</summary>
    public LoopState RolledBackTo(LoopState checkpoint, long stepsSince) => this with
    {
        Rollbacks = Rollbacks + 1,
        SkippedSteps = checkpoint.SkippedSteps + stepsSince,
        TokensSkipped = NextSequence.Keys.Aggregate(checkpoint.TokensSkipped,
            (skipped, corpus) => TokensRead(corpus) == checkpoint.TokensRead(corpus) ? skipped
                : Add(skipped, corpus, TokensRead(corpus) - checkpoint.TokensRead(corpus))),
    };

    /// <summary>The loop's state as saved in <paramref name="checkpoint"/> (checked against its manifest; no tensor is read).</summary>
    public static LoopState ReadFrom(string checkpoint) => Checkpoint.ReadPart<LoopState>(checkpoint, PartName);

    static ImmutableDictionary<string, long> Add(ImmutableDictionary<string, long> counts, string corpus, long tokens) =>
        counts.SetItem(corpus, counts.GetValueOrDefault(corpus) + tokens);
}
