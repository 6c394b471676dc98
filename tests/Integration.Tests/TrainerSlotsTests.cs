using Streaming.Grains;

namespace Streaming.Integration.Tests;

/// <summary>The cluster tells clients how many runs it should train at once: the silo's --trainers.</summary>
public sealed class TrainerSlotsTests() : OneSiloCluster("trainer-slots")
{
    protected override void Configure(StreamingOptions o) => o.TrainerSlots = 3;

    [Fact]
    public async Task TheRegistryAddsUpTheSilosTrainerSlots() =>
        Assert.Equal(3, await Cluster.Client.GetGrain<IRunRegistryGrain>(0).GetTrainerSlotsAsync());
}
