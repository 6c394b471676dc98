namespace Streaming.Training.Loop;

/// <summary>Validation loss on every corpus seen so far, measured when a task (corpus) was finished: one row of the loss matrix.</summary>
public sealed record TaskEvaluation(string AfterTask, long Step, IReadOnlyDictionary<string, double> Loss);
