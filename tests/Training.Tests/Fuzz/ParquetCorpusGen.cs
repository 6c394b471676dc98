using CsCheck;
using Parquet;
using Parquet.Schema;
using Streaming.Training.Data;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>
/// Parquet files written by Parquet.Net with odd schemas (no text column, a text column of numbers or booleans, extra
/// columns, nulls, empty and oversized values, several row groups or none), each with its exact expected outcome, and
/// the same files damaged (truncated, bytes flipped in the footer, garbage between intact magic bytes): refused, or
/// read with consistent counts when the damage happens to be harmless.
/// </summary>
internal static class ParquetCorpusGen
{
    private enum TextColumn { Strings, Absent, Integers, Doubles, Booleans }
    private enum Damage { None, Truncated, FooterFlipped, GarbageInside }

    public static readonly Gen<CorpusCase> Cases =
        from max in TextGen.MaxDocumentBytes
        from column in TextGen.Weighted((6, Gen.Const(TextColumn.Strings)), (1, Gen.Enum<TextColumn>()))
        from groups in Value(max).Array[0, 30].Array[0, 3]
        from withId in Gen.Bool
        from damage in TextGen.Weighted((3, Gen.Const(Damage.None)), (2, Gen.Enum<Damage>()))
        from at in Gen.Double[0, 1]
        from garbage in Gen.Byte.Array[1, 64]
        from inFolder in Gen.Bool
        select Build(max, column, groups, withId, damage, at, garbage, inFolder);

    private static Gen<string?> Value(int max) => TextGen.Weighted(
        (8, TextGen.Words1To(15).Select(s => (string?)s)),
        (1, Gen.Const(() => (string?)null)),
        (1, Gen.OneOf<string?>("", "   ", "\n\t", "\u00A0")),
        (1, Gen.Int[1, 3 * max].Select(n => (string?)new string('z', n))));

    private static CorpusCase Build(int max, TextColumn column, string?[][] groups, bool withId, Damage damage, double at, byte[] garbage, bool inFolder)
    {
        var file = Write(column, groups, withId);
        var bytes = damage switch
        {
            Damage.None => file,
            Damage.Truncated => file[..(int)(at * (file.Length - 1))],
            Damage.FooterFlipped => Flip(file, file.Length - 5 - (int)(at * Math.Min(200, file.Length - 9)), garbage[0]),
            _ => [.. "PAR1"u8, .. garbage, .. file[(4 + garbage.Length)..Math.Max(4 + garbage.Length, file.Length - 4)], .. "PAR1"u8],
        };
        var expected = damage != Damage.None ? null
            : column == TextColumn.Strings ? ExpectedIngest.Sum(groups.SelectMany(g => g).Select(v => Expect(v, max)))
            : new ExpectedIngest(0, 0, new SkipCounts()); // refused: no text column
        const string name = "table.parquet";
        return new CorpusCase($"parquet ({column}, {damage})", [new FileEntry(name, bytes)], inFolder ? null : name, max, 64, expected);
    }

    private static ExpectedIngest Expect(string? value, int max)
    {
        var skipped = new SkipCounts();
        if (value is null) skipped.MissingText++;
        else if (string.IsNullOrWhiteSpace(value)) skipped.EmptyDocuments++;
        else if (TextGen.Utf8(value).Length > max) skipped.TooLarge++;
        else return new ExpectedIngest(1, TextGen.Utf8(value).Length, skipped);
        return new ExpectedIngest(0, 0, skipped);
    }

    private static byte[] Flip(byte[] bytes, int position, byte mask)
    {
        var flipped = bytes.ToArray();
        flipped[Math.Max(0, position)] ^= mask == 0 ? (byte)1 : mask;
        return flipped;
    }

    private static byte[] Write(TextColumn column, string?[][] groups, bool withId) =>
        Task.Run(() => WriteAsync(column, groups, withId)).GetAwaiter().GetResult();

    private static async Task<byte[]> WriteAsync(TextColumn column, string?[][] groups, bool withId)
    {
        DataField text = column switch
        {
            TextColumn.Strings => new DataField<string>("text", true),
            TextColumn.Absent => new DataField<string>("body", true),
            TextColumn.Integers => new DataField<int>("text"),
            TextColumn.Doubles => new DataField<double>("text"),
            _ => new DataField<bool>("text"),
        };
        var id = new DataField<long>("id");
        var schema = withId ? new ParquetSchema(id, text) : new ParquetSchema(text);
        var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            foreach (var values in groups)
            {
                using var group = writer.CreateRowGroup();
                if (withId) await group.WriteAsync<long>(id, Enumerable.Range(0, values.Length).Select(i => (long)i).ToArray().AsMemory(), null, null, default);
                switch (column)
                {
                    case TextColumn.Strings or TextColumn.Absent: await group.WriteAsync(text, values, null); break;
                    case TextColumn.Integers: await group.WriteAsync<int>(text, new int[values.Length].AsMemory(), null, null, default); break;
                    case TextColumn.Doubles: await group.WriteAsync<double>(text, new double[values.Length].AsMemory(), null, null, default); break;
                    default: await group.WriteAsync<bool>(text, new bool[values.Length].AsMemory(), null, null, default); break;
                }
            }
        }
        return stream.ToArray();
    }
}
