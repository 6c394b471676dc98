using Streaming.Training.Checkpoints;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;
using Streaming.Training.Model;
using Streaming.Training.Tests.Engine;
using static TorchSharp.torch;

namespace Streaming.Training.Tests.Checkpoints;

/// <summary>The one owner of a run's checkpoint folder: names, retention, the newest complete one, leftovers.</summary>
[Collection("torch")]
public sealed class CheckpointStoreTests : IDisposable
{
    static readonly GptConfig Model = new(1, 8, 2, 4, 16);
    readonly string root = Directory.CreateTempSubdirectory("streaming-store-").FullName;

    public CheckpointStoreTests() => TextBatches.Cpu();

    public void Dispose() => Directory.Delete(root, recursive: true);

    string[] Folders() => [.. Directory.GetDirectories(root).Select(Path.GetFileName).Order()!];

    /// <summary>A real checkpoint (one tensor and the loop's state with its cursors) written through the store.</summary>
    string Save(CheckpointStore store, long steps) => store.Save(steps, path =>
    {
        using var weight = ones(2, 2);
        var state = LoopState.Empty with { NextSequence = LoopState.Empty.NextSequence.SetItem("a", steps) };
        Checkpoint.Save(path, Model, steps, new Dictionary<string, Tensor> { ["w"] = weight }, parts: new CheckpointParts().Set(LoopState.PartName, state), overwrite: true);
    });

    [Fact]
    public void WithoutAnOwnerThatAcknowledgesTheNewestTwoAreKept()
    {
        var store = new CheckpointStore(root);
        foreach (var steps in new[] { 1L, 2, 3, 4 }) Save(store, steps);
        Assert.Equal(["step-00000003", "step-00000004"], Folders());
        Assert.Equal(Path.Combine(root, "step-00000004"), store.Newest());
        Assert.Equal(4, LoopState.ReadFrom(store.Newest()!).NextSequence["a"]);
    }

    [Fact]
    public void NothingFromTheAcknowledgedCheckpointOnIsDeleted()
    {
        var store = new CheckpointStore(root, ownerAcknowledges: true);
        foreach (var steps in new[] { 1L, 2, 3 }) Save(store, steps);
        Assert.Equal(3, Folders().Length);   // nothing acknowledged yet: the owner may point at any
        store.Acknowledge(Path.Combine(root, "step-00000002"));
        Save(store, 4);
        Assert.Equal(["step-00000002", "step-00000003", "step-00000004"], Folders());
        store.Acknowledge(Path.Combine(root, "step-00000004"));
        Save(store, 5);
        Assert.Equal(["step-00000004", "step-00000005"], Folders());
    }

    [Fact]
    public void TheSameStepAgainIsNotWrittenTwice()
    {
        var store = new CheckpointStore(root);
        var first = Save(store, 7);
        var written = File.GetLastWriteTimeUtc(Path.Combine(first, Checkpoint.ManifestFile));
        Thread.Sleep(20);
        Assert.Equal(first, Save(store, 7));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(first, Checkpoint.ManifestFile)));
    }

    [Fact]
    public void OpeningClearsHalfWrittenSavesAndFindsTheNewestThatVerifies()
    {
        var store = new CheckpointStore(root);
        Save(store, 1);
        var newest = Save(store, 2);
        // A crash mid-save leaves a .tmp- folder; a crash mid-replace an .old- one next to its complete folder.
        Directory.CreateDirectory(Path.Combine(root, "step-00000003.tmp-abc"));
        Directory.CreateDirectory(Path.Combine(root, "step-00000002.old-def"));
        // The newest is damaged on disk (its manifest is intact: only hashing finds it).
        File.WriteAllBytes(Path.Combine(newest, Checkpoint.ModelFile), [1, 2, 3]);

        var reopened = new CheckpointStore(root);
        Assert.Equal(["step-00000001", "step-00000002"], Folders());
        Assert.Equal(newest, reopened.Newest());
        Assert.Equal(Path.Combine(root, "step-00000001"), reopened.Newest(verify: true));
    }

    [Fact]
    public void AReplacedFolderWhoseNewVersionNeverArrivedIsKept()
    {
        // Between the two renames of a replace only the .old- folder holds the checkpoint: it must survive opening.
        var old = Directory.CreateDirectory(Path.Combine(root, "step-00000005.old-abc")).FullName;
        _ = new CheckpointStore(root);
        Assert.True(Directory.Exists(old));
    }

    [Fact]
    public void TheLoopPartAnEarlierVersionWroteReadsAsTheLoopsState()
    {
        // The "loop" part as checkpoints before LoopState held it (no anneal-only counts then).
        var json = """
            {"tasks":["en","de"],"tokensTrained":{"en":50605,"de":1000},"nextSequence":{"en":13,"de":2},
             "taskSnapshots":[{"path":"/r/en-step-00000013","kind":"task-release","task":"en","step":13,"corpora":["en"]}],
             "firstLoss":5.5,"releases":[{"path":"/r/en-step-00000013","task":"en","step":13,"mode":"paper-protocol"}],
             "annealsDone":1,"replayTokens":7,"lastLoss":3.25}
            """u8.ToArray();
        var state = new CheckpointParts().SetJson(LoopState.PartName, json).Get<LoopState>(LoopState.PartName);
        Assert.Equal(["en", "de"], state.Tasks);
        Assert.Equal(13, state.NextSequence["en"]);
        Assert.Equal(50605, state.TokensTrained["en"]);
        Assert.Empty(state.TokensAnnealOnly);
        Assert.Equal(ReleaseMode.PaperProtocol, Assert.Single(state.Releases).Mode);
        Assert.Equal((SnapshotKind.TaskRelease, 13L), (state.TaskSnapshots[0].Kind, state.TaskSnapshots[0].Step));
        Assert.Equal((1L, 7L, 5.5, 3.25), (state.AnnealsDone, state.ReplayTokens, state.FirstLoss, state.LastLoss));
    }
}
