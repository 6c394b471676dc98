using Streaming.Client.Commands;
using Streaming.Grains;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Model;

namespace Streaming.Integration.Tests;

/// <summary>
/// The client has no training library: what it knows of the silo's names (help text, early checks, progress
/// phases) is written on its side of the contract. These keep each equal to the training library's own.
/// </summary>
public class ClientSiloNamesTests
{
    [Fact]
    public void ModelPresetsInTheHelpAreTheSilos() => Assert.Equal(GptConfig.Presets.Keys, SiloNames.ModelPresets);

    [Fact]
    public void TokenizersInTheHelpAreTheSilos() => Assert.Equal(Tokenizers.Names, SiloNames.Tokenizers);

    [Fact]
    public void NameRuleIsTheSilos() => Assert.Equal(CorpusIngestor.NamePattern, NameRule.Pattern);

    [Theory]
    [InlineData("a", true)]
    [InlineData("Run-1.b_c", true)]
    [InlineData("../escape", false)]
    [InlineData(".hidden", false)]
    [InlineData("", false)]
    [InlineData("with space", false)]
    public void NameRuleAgreesWithTheSilo(string name, bool valid)
    {
        Assert.Equal(valid, NameRule.IsValid(name));
        Assert.Equal(valid, CorpusIngestor.IsValidName(name));
    }

    [Fact]
    public void NameRuleAllowsAtMostAHundredCharacters()
    {
        Assert.True(NameRule.IsValid(new string('a', 100)));
        Assert.False(NameRule.IsValid(new string('a', 101)));
    }

    [Fact]
    public void IngestPhasesAreTheSilos()
    {
        Assert.Equal(IngestProgressInfo.ScanPhase, IngestPhase.Scan.ToWire());
        Assert.Equal(IngestProgressInfo.TokenizePhase, IngestPhase.Tokenize.ToWire());
    }
}
