namespace Streaming.Training.Loop;

/// <summary>
/// What the training loop reads besides the blocks queued to it: validation blocks to evaluate on, and
/// the train blocks of earlier corpora to replay. Called only on the training thread.
/// </summary>
public interface ICorpusData
{
    /// <summary>The validation blocks of a corpus that evaluations use (the same ones every time).</summary>
    IEnumerable<int[]> ValidationBlocks(string corpus);

    long TrainBlockCount(string corpus);

    int[] ReadTrainBlock(string corpus, long sequence);
}
