using System.Text;

namespace Streaming.Training.Data;

/// <summary>
/// Byte-level tokenizer: a token is one byte of the UTF-8 encoding, so 256 ids and an exact
/// round trip for any valid text. No end-of-text id (it would need a 257th id; see <see cref="ITokenizer.EndOfTextId"/>).
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    public const string TokenizerName = "byte";

    public static ByteTokenizer Instance { get; } = new();

    public string Name => TokenizerName;

    public int VocabularySize => 256;

    public int? EndOfTextId => null;

    public int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) ids[i] = bytes[i];
        return ids;
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new byte[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] > 255) throw new ArgumentOutOfRangeException(nameof(ids), $"byte token id {ids[i]} is not in 0..255");
            bytes[i] = (byte)ids[i];
        }
        // Invalid sequences (a block cut mid-character) decode to U+FFFD rather than throwing.
        return Encoding.UTF8.GetString(bytes);
    }
}
