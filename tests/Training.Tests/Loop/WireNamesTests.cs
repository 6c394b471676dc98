using System.Text.Json;
using Streaming.Schedules;
using Streaming.Training.Evaluation;
using Streaming.Training.Loop;

namespace Streaming.Training.Tests.Loop;

/// <summary>Snapshot kinds and release modes are enums in the library and the strings of earlier versions in JSON,
/// grain state, the CLI and metric labels: the same string both ways.</summary>
public class WireNamesTests
{
    [Fact]
    public void KindsAndModesHaveTheStringsEarlierVersionsWrote()
    {
        Assert.Equal(["task-release", "task-end", "on-demand-release", "main", "average"], Enum.GetValues<SnapshotKind>().Select(k => k.ToWire()));
        Assert.Equal(["paper-protocol", "on-demand", "task-end", "average"], Enum.GetValues<ReleaseMode>().Select(m => m.ToWire()));
    }

    [Fact]
    public void JsonHoldsTheSameStringsAndEveryStringParsesBack()
    {
        foreach (var kind in Enum.GetValues<SnapshotKind>())
        {
            Assert.Equal($"\"{kind.ToWire()}\"", JsonSerializer.Serialize(kind));
            Assert.Equal(kind, KebabCase.Parse<SnapshotKind>(kind.ToWire()));
        }
        foreach (var mode in Enum.GetValues<ReleaseMode>())
        {
            Assert.Equal($"\"{mode.ToWire()}\"", JsonSerializer.Serialize(mode));
            Assert.Equal(mode, KebabCase.Parse<ReleaseMode>(mode.ToWire()));
        }
        Assert.Throws<FormatException>(() => KebabCase.Parse<SnapshotKind>("TaskEnd"));
    }
}
