using System.Buffers.Binary;
using Parquet;
using Parquet.Schema;

namespace Streaming.Training.Data;

/// <summary>
/// Reads a .parquet file: one document per row, from a string column named by
/// <see cref="CorpusReaderOptions.TextColumn"/>. Reads one row group at a time, so memory is bounded
/// by the file's row-group size. Null values are skipped and counted. Parquet.Net decodes the
/// UTF-8 itself, so invalid sequences there become U+FFFD instead of being counted.
/// </summary>
internal static class ParquetFileReader
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    public static IEnumerable<CorpusDocument> Read(string path, CorpusReaderOptions options, SkipCounts skipped)
    {
        using var stream = new EndOfFileGuardStream(CorpusFiles.OpenRead(path));
        if (!HasMagic(stream)) throw new CorpusFormatException($"{path}: not a parquet file (no PAR1 header and footer)");
        CheckFooter(stream, path);
        // Parquet.Net is async only. The readers are synchronous (ingest is CPU-bound and runs on its
        // own thread); Task.Run keeps the blocking wait off any caller's synchronization context.
        var reader = Decode(path, () => Run(() => ParquetReader.CreateAsync(stream, leaveStreamOpen: true)));
        try
        {
            var field = Decode(path, () => FindTextField(reader.Schema, options.TextColumn, path));
            for (var group = 0; group < reader.RowGroupCount; group++)
            {
                var values = Decode(path, () => ReadRowGroup(reader, group, field));
                for (var row = 0; row < values.Length; row++)
                {
                    var value = values[row];
                    values[row] = null; // let a long row go as soon as it is taken
                    var text = TextChecks.Accept(value, options.MaxDocumentBytes, skipped);
                    if (text is not null) yield return new CorpusDocument($"{path}:row-group {group}:row {row}", text);
                }
            }
        }
        finally
        {
            Run(async () => { await reader.DisposeAsync().ConfigureAwait(false); return 0; });
        }
    }

    private static string?[] ReadRowGroup(ParquetReader reader, int group, DataField field)
    {
        using var rows = reader.OpenRowGroupReader(group);
        var values = new string?[checked((int)rows.RowCount)];
        Run(async () => { await rows.ReadAsync(field, values.AsMemory()!, null).ConfigureAwait(false); return 0; });
        return values;
    }

    /// <summary>
    /// Runs a Parquet.Net read. A damaged file fails there with whatever its decoder hit (ThriftProtocolException,
    /// IOException, InvalidDataException, index or overflow errors, ...); every one is the file's fault, so one line.
    /// </summary>
    private static T Decode<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not (CorpusFormatException or OutOfMemoryException or OperationCanceledException))
        {
            throw new CorpusFormatException($"{path}: damaged parquet file ({ExceptionText.FirstLine(ExceptionText.Innermost(e).Message).TrimEnd('.')})");
        }
    }

    private static DataField FindTextField(ParquetSchema schema, string column, string path)
    {
        var field = schema.DataFields.FirstOrDefault(f => f.Name == column);
        if (field is null)
        {
            var names = string.Join(", ", schema.DataFields.Select(f => f.Name));
            throw new CorpusFormatException($"{path}: no column '{column}' (columns: {names})");
        }
        // Parquet.Net 6 reports UTF-8 string columns read from a file as ReadOnlyMemory<char>.
        if (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>) || field.IsArray)
            throw new CorpusFormatException($"{path}: column '{column}' holds {field.ClrType}{(field.IsArray ? "[]" : "")}, not text");
        return field;
    }

    /// <summary>The footer (file metadata) must fit in the file and be well-formed Thrift before Parquet.Net decodes it.</summary>
    private static void CheckFooter(Stream stream, string path)
    {
        Span<byte> length = stackalloc byte[4];
        stream.Seek(-8, SeekOrigin.End);
        stream.ReadExactly(length);
        var footerLength = BinaryPrimitives.ReadInt32LittleEndian(length);
        if (footerLength <= 0 || footerLength > stream.Length - 12)
            throw new CorpusFormatException($"{path}: damaged parquet file (a footer of {footerLength} bytes in a file of {stream.Length})");
        var footer = new byte[footerLength];
        stream.Seek(-8 - footerLength, SeekOrigin.End);
        stream.ReadExactly(footer);
        stream.Seek(0, SeekOrigin.Begin);
        if (ThriftCompactCheck.Problem(footer) is { } problem)
            throw new CorpusFormatException($"{path}: damaged parquet file (its footer is not well-formed: {problem})");
    }

    private static bool HasMagic(Stream stream)
    {
        if (stream.Length < 12) return false;
        Span<byte> head = stackalloc byte[4];
        Span<byte> tail = stackalloc byte[4];
        stream.ReadExactly(head);
        stream.Seek(-4, SeekOrigin.End);
        stream.ReadExactly(tail);
        stream.Seek(0, SeekOrigin.Begin);
        return head.SequenceEqual(Magic) && tail.SequenceEqual(Magic);
    }

    private static T Run<T>(Func<Task<T>> action) => Task.Run(action).GetAwaiter().GetResult();
}
