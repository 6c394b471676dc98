using Streaming.Grains;

namespace Streaming.Client;

/// <summary>How a planned anneal's release reads against its plan: the loss the law predicted, and the one measured.</summary>
public static class PlannedRelease
{
    /// <summary>"predicted X, measured Y on CORPUS" ("measured: not yet" until it is evaluated); null for a release that was not planned.</summary>
    public static string? Describe(ReleaseInfo release) => release.Predicted is not { } predicted ? null
        : $"predicted {predicted.Loss:F4}, measured {(release.Loss.TryGetValue(predicted.Corpus, out var measured) ? $"{measured:F4}" : "not yet")} on {predicted.Corpus}";
}
