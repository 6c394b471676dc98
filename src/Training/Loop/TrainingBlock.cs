namespace Streaming.Training.Loop;

/// <summary>One block of token ids as the training loop sees it: one block is one optimizer step.</summary>
public sealed record TrainingBlock(string Corpus, long Sequence, int[] Tokens);
