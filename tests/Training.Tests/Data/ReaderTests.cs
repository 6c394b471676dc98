using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class ReaderTests
{
    private static List<string> Read(string path, SkipCounts skipped, CorpusReaderOptions? options = null) =>
        new CorpusReader(path, options).ReadDocuments(skipped).Select(d => d.Text).ToList();

    [Fact]
    public void Txt_documents_are_separated_by_blank_lines()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.txt", "\uFEFFfirst line\r\nsecond line\r\n\r\n  \nthird doc\n\n\nfourth doc");
        var skipped = new SkipCounts();
        Assert.Equal(["first line\nsecond line", "third doc", "fourth doc"], Read(file, skipped));
        Assert.Equal(0, skipped.Documents);
    }

    [Fact]
    public void Txt_whole_file_mode_keeps_one_document()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.txt", "para one\n\npara two\n");
        var options = new CorpusReaderOptions { TextMode = TextDocumentMode.WholeFile };
        Assert.Equal(["para one\n\npara two"], Read(file, new SkipCounts(), options));
    }

    [Fact]
    public void Jsonl_reads_the_text_field_and_skips_bad_lines_with_counts()
    {
        using var temp = new TempFolder();
        var file = temp.File("a.jsonl", string.Join("\n",
            """{"id": 1, "text": "Hallo\n\nWelt"}""",
            "",
            """{"text": "zwei"}""",
            """{"text": broken""",
            """[1, 2]""",
            """{"title": "no text"}""",
            """{"text": 42}""",
            """{"text": "   "}""",
            """{"text": "\ud800 lone surrogate"}""",
            """{"text": "last"}"""));
        var skipped = new SkipCounts();
        Assert.Equal(["Hallo\n\nWelt", "zwei", "last"], Read(file, skipped));
        Assert.Equal(2, skipped.MalformedJson);
        Assert.Equal(2, skipped.MissingText);
        Assert.Equal(1, skipped.EmptyDocuments);
        Assert.Equal(1, skipped.InvalidUtf8);
    }

    [Fact]
    public async Task Parquet_reads_a_text_column_by_name()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("a.parquet");
        await ParquetFixture.WriteAsync(file, "body", ["eins", null, "zwei", ""]);
        var skipped = new SkipCounts();
        Assert.Equal(["eins", "zwei"], Read(file, skipped, new CorpusReaderOptions { TextColumn = "body" }));
        Assert.Equal(1, skipped.MissingText);
        Assert.Equal(1, skipped.EmptyDocuments);
    }

    [Fact]
    public async Task Parquet_without_the_column_names_the_columns()
    {
        using var temp = new TempFolder();
        var file = temp.Combine("a.parquet");
        await ParquetFixture.WriteAsync(file, "body", ["eins"]);
        var error = Assert.Throws<CorpusFormatException>(() => Read(file, new SkipCounts()));
        Assert.Equal($"{file}: no column 'text' (columns: body)", error.Message);
    }

    [Fact]
    public void A_folder_is_read_recursively_in_ordinal_order_skipping_non_corpus_files()
    {
        using var temp = new TempFolder();
        temp.File("b.txt", "from b");
        temp.File("A/z.jsonl", """{"text": "from A/z"}""");
        temp.File("a.txt", "from a");
        temp.File("LICENSE", "licence text");
        temp.File("SOURCE.md", "# notes");
        temp.File("empty.txt", "");
        temp.File("image.txt", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x00]);
        var skipped = new SkipCounts();
        Assert.Equal(["from A/z", "from a", "from b"], Read(temp.Path, skipped));
        Assert.Equal(2, skipped.UnsupportedFiles);
        Assert.Equal(1, skipped.EmptyFiles);
        Assert.Equal(1, skipped.BinaryFiles);
    }
}
