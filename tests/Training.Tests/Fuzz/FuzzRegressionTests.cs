using CsCheck;
using Streaming.Schedules;
using Streaming.Training.Data;
using Streaming.Training.Tests.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>The failures the fuzz tests found, kept as cases of their own.</summary>
public class FuzzRegressionTests
{
    [Fact]
    public void A_folder_with_link_loops_is_read_once_and_quickly()
    {
        using var temp = new TempFolder();
        temp.File("corpus/a/notes.txt", "one document");
        File.CreateSymbolicLink(temp.Combine("corpus", "a", "loop"), ".");
        File.CreateSymbolicLink(temp.Combine("corpus", "a", "up"), "..");

        var manifest = FuzzRun.WithTimeout(() => CorpusIngestor.Ingest(temp.Combine("corpus"), temp.Combine("data"), "loops", ByteTokenizer.Instance));

        Assert.Equal(1, manifest.TrainDocuments + manifest.ValidationDocuments);
        Assert.Equal("one document".Length, manifest.TrainTokens + manifest.ValidationTokens);
    }

    [Fact]
    public void A_linked_folder_is_read_once_however_many_links_lead_to_it()
    {
        using var temp = new TempFolder();
        temp.File("elsewhere/more.txt", "another document");
        temp.File("corpus/notes.txt", "one document");
        File.CreateSymbolicLink(temp.Combine("corpus", "more"), temp.Combine("elsewhere"));
        File.CreateSymbolicLink(temp.Combine("corpus", "again"), temp.Combine("elsewhere"));

        var manifest = FuzzRun.WithTimeout(() => CorpusIngestor.Ingest(temp.Combine("corpus"), temp.Combine("data"), "linked", ByteTokenizer.Instance));

        Assert.Equal(2, manifest.TrainDocuments + manifest.ValidationDocuments);
        Assert.Equal("one document".Length + "another document".Length, manifest.TrainTokens + manifest.ValidationTokens);
    }

    [Theory]
    [InlineData("nowhere.txt")]
    [InlineData("gone.txt")] // a link to itself
    public void A_corpus_file_link_that_cannot_be_opened_is_one_line_naming_it(string target)
    {
        using var temp = new TempFolder();
        temp.File("corpus/notes.txt", "one document");
        var link = temp.Combine("corpus", "gone.txt");
        File.CreateSymbolicLink(link, target);

        var e = Assert.Throws<CorpusFormatException>(() => CorpusIngestor.Ingest(temp.Combine("corpus"), temp.Combine("data"), "links", ByteTokenizer.Instance));

        FuzzRun.AssertOneLine(e.Message);
        Assert.StartsWith($"{link}: cannot be read", e.Message);
    }

    /// <summary>Damaged parquet files the generator made: a Thrift error, a schema error, a page header and a footer
    /// that read past the end for ever (hangs).</summary>
    [Theory]
    [InlineData("f3v1-wl5h8l1")]
    [InlineData("aCKSwqFkoVW1")]
    [InlineData("1mzCsRzTSt81")]
    [InlineData("7CaslO5rQII1")]
    public void A_damaged_parquet_file_is_refused_in_one_line(string seed) =>
        ParquetCorpusGen.Cases.Sample(c => Assert.Equal(FuzzOutcome.Refused, FuzzRun.WithTimeout(() => CorpusCheck.Run(c))), iter: 1, seed: seed, threads: 1);

    [Fact]
    public void Task_lengths_adding_up_past_the_largest_long_are_refused_in_one_line()
    {
        var e = Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Prepare(new ScheduleConfig { Kind = "cosine" }, [1, long.MaxValue]));
        Assert.Equal("tasks", e.Field);
    }

    [Fact]
    public void An_anneal_branch_longer_than_an_int_is_refused_in_one_line()
    {
        var config = new ScheduleConfig { AnnealSteps = 3_000_000_000 };
        var e = Assert.Throws<ScheduleConfigException>(() => SchedulePlanner.Prepare(config, [3_000_000_000]));
        Assert.Equal("anneal-steps", e.Field);
    }

    [Fact]
    public void A_cosine_phase_between_huge_rates_stays_finite() =>
        Assert.True(double.IsFinite(Shapes.Evaluate(Shape.Cosine, double.MaxValue, 7e307, 0.01)));
}
