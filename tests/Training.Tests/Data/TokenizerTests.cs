using Streaming.Training.Data;

namespace Streaming.Training.Tests.Data;

public class TokenizerTests
{
    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("Grüße, 世界! 🎉\n\ttabs and \r\n line ends")]
    public void Byte_tokenizer_round_trips_exactly(string text)
    {
        var tokenizer = Tokenizers.Create("byte");
        var ids = tokenizer.Encode(text);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 0, 255));
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal(256, tokenizer.VocabularySize);
        Assert.Null(tokenizer.EndOfTextId);
    }

    [Fact]
    public void Byte_tokenizer_encodes_utf8_bytes()
    {
        Assert.Equal([0x41, 0xC3, 0xA4], ByteTokenizer.Instance.Encode("Aä"));
    }

    [Theory]
    [InlineData("gpt2", "hello world", new[] { 31373, 995 }, 50256, 50257)]
    [InlineData("cl100k_base", "hello world", new[] { 15339, 1917 }, 100257, 100277)]
    [InlineData("o200k_base", "hello world", new[] { 24912, 2375 }, 199999, 200019)]
    public void Tiktoken_encodes_known_ids(string name, string text, int[] expected, int endOfText, int vocabulary)
    {
        var tokenizer = Tokenizers.Create(name);
        Assert.Equal(name, tokenizer.Name);
        Assert.Equal(expected, tokenizer.Encode(text));
        Assert.Equal(endOfText, tokenizer.EndOfTextId);
        Assert.Equal(vocabulary, tokenizer.VocabularySize);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void Tiktoken_round_trips_mixed_text(string name)
    {
        var tokenizer = Tokenizers.Create(name);
        const string text = "func main() {\n\tfmt.Println(\"Grüße, 世界\")\n}\n";
        var ids = tokenizer.Encode(text);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Fact]
    public void Unknown_tokenizer_is_a_clear_one_line_error()
    {
        var error = Assert.Throws<ArgumentException>(() => Tokenizers.Create("gpt3"));
        Assert.Equal("unknown tokenizer 'gpt3' (known: byte, gpt2, cl100k_base, o200k_base)", error.Message);
    }
}
