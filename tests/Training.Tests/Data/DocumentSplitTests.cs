using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class DocumentSplitTests
{
    private static readonly string[] Texts = Enumerable.Range(0, 2000).Select(i => $"document number {i}").ToArray();

    private static HashSet<string> Validation(IEnumerable<string> texts, double fraction)
    {
        var list = texts.ToList();
        var split = DocumentSplit.Plan(list.Select(DocumentSplit.Hash), fraction);
        return list.Where(t => split.IsValidation(DocumentSplit.Hash(t))).ToHashSet();
    }

    [Fact]
    public void Split_is_deterministic_and_independent_of_order()
    {
        var first = Validation(Texts, 0.05);
        var again = Validation(Texts.Reverse(), 0.05);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Split_is_disjoint_and_near_the_fraction()
    {
        var validation = Validation(Texts, 0.05);
        var train = Texts.Where(t => !validation.Contains(t)).ToHashSet();
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(Texts.Length, train.Count + validation.Count);
        Assert.InRange(validation.Count, 60, 140); // 100 expected; binomial sd ~10
    }

    [Fact]
    public void A_document_keeps_its_side_when_the_corpus_grows()
    {
        var small = Validation(Texts.Take(1000), 0.05);
        var large = Validation(Texts, 0.05);
        Assert.Equal(small, large.Where(t => Texts.Take(1000).Contains(t)).ToHashSet());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Small_corpora_get_at_least_one_validation_and_one_train_document(int count)
    {
        foreach (var fraction in new[] { 0.0001, 0.05, 0.9999 })
        {
            var validation = Validation(Texts.Take(count), fraction);
            Assert.InRange(validation.Count, 1, count - 1);
        }
    }

    [Fact]
    public void A_fraction_outside_0_to_1_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DocumentSplit.Planner(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DocumentSplit.Planner(-0.1));
    }
}
