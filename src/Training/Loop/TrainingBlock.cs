namespace Streaming.Training.Loop;

/// <summary>
/// One block of token ids as the training loop sees it: one block is one optimizer step. TaskLength is
/// the length of the block's corpus in blocks (= steps), which the schedule needs when a task starts.
/// </summary>
public sealed record TrainingBlock(string Corpus, long Sequence, int[] Tokens, long TaskLength);
