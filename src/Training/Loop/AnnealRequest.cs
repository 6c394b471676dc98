using System.Text.Json.Serialization;
using Streaming.Schedules;

namespace Streaming.Training.Loop;

/// <summary>
/// An on-demand anneal asked for by a user: a branch of <paramref name="Steps"/> steps on the next blocks.
/// Ids count up per run; the loop remembers the last one it released, so a request repeated after a
/// crash (the grain keeps it until the release exists) is not annealed twice. A planned one (`streaming anneal
/// --budget N` or `--target-loss X`) carries the loss the annealing law predicted for it, which its release keeps.
/// </summary>
public sealed record AnnealRequest(long Id, int Steps, AnnealPrediction? Prediction = null);

/// <summary>The validation loss on <paramref name="Corpus"/> that the annealing law fitted to the run's curve predicted for
/// the end of a planned anneal branch.</summary>
public sealed record AnnealPrediction(string Corpus, double Loss);

/// <summary>A release: the weights of an annealed branch or of a task's end, where they are, how it was taken
/// (one of <see cref="ReleaseMode"/>), and for a planned anneal the loss predicted for it.</summary>
public sealed record ReleaseReport(string? Path, string Task, long Step, ReleaseMode Mode, AnnealPrediction? Predicted = null);

/// <summary>How a release was taken: the <see cref="ReleaseReport.Mode"/> values. Kebab-case strings in JSON and on
/// the wire ("paper-protocol").</summary>
[JsonConverter(typeof(KebabCaseEnumConverter<ReleaseMode>))]
public enum ReleaseMode
{
    /// <summary>The anneal branch over a task's last steps (paper protocol, anneal fraction f).</summary>
    PaperProtocol,

    /// <summary>An anneal branch asked for by a user (`streaming anneal`).</summary>
    OnDemand,

    /// <summary>The main trajectory at the end of a task that had no anneal branch (e.g. repeated-cosine, whose
    /// every task ends at the minimum rate): the model a run of that kind has after the task.</summary>
    TaskEnd,

    /// <summary>The moving average of the main trajectory's weights, released at a task's end or on demand, without a
    /// training step.</summary>
    Average,
}
