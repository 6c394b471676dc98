using Parquet;
using Parquet.Schema;

namespace Streaming.Training.Tests.Data;

internal static class ParquetFixture
{
    public static async Task WriteAsync(string path, string column, IReadOnlyCollection<string?> values)
    {
        var field = new DataField<string>(column, true);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(field), stream);
        using var group = writer.CreateRowGroup();
        await group.WriteAsync(field, values!, null);
    }
}
