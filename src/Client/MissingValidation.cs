using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>The corpora of a run that have no validation loss to show, and why: `eval` and `status` say it instead of an empty cell.</summary>
public static class MissingValidation
{
    /// <summary>Corpus name to its one-line reason ("no validation split: corpus NAME ..."), for those of <paramref name="corpora"/> without validation tokens.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> OfAsync(IClusterClient client, IEnumerable<string> corpora)
    {
        // Asked side by side: one round trip for a run's corpora, not one after another (status is polled often).
        var names = corpora.Distinct().ToList();
        var answers = await Task.WhenAll(names.Select(corpus => CommonOptions.Call(client.GetGrain<ICorpusBlocksGrain>(corpus).GetMissingValidationAsync)));
        return names.Zip(answers).Where(p => p.Second is not null).ToDictionary(p => p.First, p => p.Second!);
    }
}
