namespace Streaming.Grains;

public sealed class RunRegistryGrain(
    [PersistentState("runs", StreamNames.Storage)] IPersistentState<SortedSet<string>> runs) : Grain, IRunRegistryGrain
{
    public async Task RegisterAsync(string run)
    {
        if (runs.State.Add(run)) await runs.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetRunsAsync() => Task.FromResult<IReadOnlyList<string>>([.. runs.State]);
}
