using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>The corpora of a run that have no validation loss to show, and why: `eval` and `status` say it instead of an empty cell.</summary>
public static class MissingValidation
{
    /// <summary>Corpus name to its one-line reason ("no validation split: corpus NAME ..."), for those of <paramref name="corpora"/> without validation tokens.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> OfAsync(IClusterClient client, IEnumerable<string> corpora)
    {
        var missing = new Dictionary<string, string>();
        foreach (var corpus in corpora.Distinct())
            if (await CommonOptions.Call(client.GetGrain<ICorpusBlocksGrain>(corpus).GetMissingValidationAsync) is { } why)
                missing[corpus] = why;
        return missing;
    }
}
