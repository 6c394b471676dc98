using Streaming.Client.Commands;
using Streaming.Grains;

namespace Streaming.Client;

/// <summary>What `streaming status [--run R]` asks the silo: the runs it knows, each run's status (one that cannot be read
/// is named with why, beside the others), and which of their corpora have no validation loss. One place, so that a load
/// driver polls exactly what the command does.</summary>
public static class StatusQuery
{
    /// <summary>The statuses of every run, or of <paramref name="run"/> alone; a run the silo does not know is a <see cref="UserError"/>.</summary>
    public static async Task<StatusAnswer> AskAsync(IClusterClient client, string? run)
    {
        var known = await client.GetGrain<IRunRegistryGrain>(0).GetRunsAsync();
        if (run is not null && !known.Contains(run))
            throw new UserError($"no run '{run}' on this silo " + (known.Count == 0 ? "(it has none yet)" : $"(its runs: {string.Join(", ", known)})"));
        var names = run is null ? known : [run];
        var runs = new List<RunStatus>();
        var unreadable = new List<UnreadableRun>();
        foreach (var name in names)
        {
            try
            {
                runs.Add(await client.GetGrain<ITrainerGrain>(name).GetStatusAsync());
            }
            catch (Exception e) when (names.Count > 1 && !CommonOptions.IsConnectionLost(e))
            {
                // One run that cannot start (its stored state unreadable, say) must not hide the others.
                unreadable.Add(new UnreadableRun(name, "unreadable", CommonOptions.Describe(e)));
            }
        }
        var noValidation = await MissingValidation.OfAsync(client, runs.SelectMany(r => r.Corpora.Select(c => c.Name)));
        return new StatusAnswer(runs, unreadable, noValidation);
    }
}

/// <summary>The runs' statuses, those that could not be read, and corpus name to why it has no validation loss.</summary>
public sealed record StatusAnswer(IReadOnlyList<RunStatus> Runs, IReadOnlyList<UnreadableRun> Unreadable, IReadOnlyDictionary<string, string> NoValidation)
{
    /// <summary>Why <paramref name="run"/>'s corpora have no validation loss, by corpus.</summary>
    public IReadOnlyDictionary<string, string> NoValidationOf(RunStatus run) =>
        run.Corpora.Where(c => NoValidation.ContainsKey(c.Name)).ToDictionary(c => c.Name, c => NoValidation[c.Name]);
}

/// <summary>A run whose status the silo could not give, and why (its phase is "unreadable").</summary>
public sealed record UnreadableRun(string Run, string Phase, string Error);
