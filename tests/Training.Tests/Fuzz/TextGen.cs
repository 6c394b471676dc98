using System.Text;
using CsCheck;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>Building blocks of generated text: words (multi-byte UTF-8, quotes, tabs, the end-of-text marker) and bad bytes.</summary>
internal static class TextGen
{
    private static readonly string[] Words =
        ["the", "a", "corpus", "ünïcödé", "日本語", "😀", "tab\there", "quote\"d", "back\\slash", "<|endoftext|>", "ŋ", "x", "0123456789"];

    /// <summary>A text of 1 to <paramref name="maxWords"/> words joined by spaces; never blank, no line breaks.</summary>
    public static Gen<string> Words1To(int maxWords) =>
        Gen.Int[0, Words.Length - 1].Array[1, maxWords].Select(ws => string.Join(' ', ws.Select(w => Words[w])));

    /// <summary>Byte sequences that are not UTF-8 (a lone continuation byte, overlong, a surrogate, a cut-off sequence, 0xFF); no NUL, no newline.</summary>
    public static readonly Gen<byte[]> InvalidUtf8 = Gen.OneOf<byte[]>([0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xFF], [0xF8, 0x88, 0x80, 0x80, 0x80]);

    /// <summary>The block size and document limit of a case: small limits so that "too large" is common and cheap.</summary>
    public static readonly Gen<int> MaxDocumentBytes = Gen.OneOf(64, 256, 4096, 65536);
    public static readonly Gen<int> BlockSize = Gen.OneOf(1, 7, 64, 4096);

    /// <summary>One of the generators, by weight (Gen.Frequency wants them as IGen).</summary>
    public static Gen<T> Weighted<T>(params (int Weight, Gen<T> Gen)[] gens) =>
        Gen.Frequency(gens.Select(g => (g.Weight, (IGen<T>)g.Gen)).ToArray());

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();
}
