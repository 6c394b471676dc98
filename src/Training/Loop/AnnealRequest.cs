namespace Streaming.Training.Loop;

/// <summary>
/// An on-demand anneal asked for by a user: a branch of <paramref name="Steps"/> steps on the next blocks.
/// Ids count up per run; the loop remembers the last one it released, so a request repeated after a
/// crash (the grain keeps it until the release exists) is not annealed twice.
/// </summary>
public sealed record AnnealRequest(long Id, int Steps);

/// <summary>A release: the weights of an annealed branch, where they are, and how it was taken (paper-protocol or on-demand).</summary>
public sealed record ReleaseReport(string? Path, string Task, long Step, string Mode);
