namespace Streaming.Training.Data;

/// <summary>
/// Checks that bytes are one well-formed struct of Thrift's compact protocol (how a parquet footer is encoded) without
/// building anything: every field, list element and map entry must fit in the bytes, so the walk ends within their
/// length. Parquet.Net's own decoder does not check this: a damaged footer that announces a list of two billion
/// elements sends it through two billion reads past the end (a hang, and gigabytes allocated).
/// </summary>
internal sealed class ThriftCompactCheck
{
    private const int MaxDepth = 64;
    private readonly byte[] _data;
    private int _position;

    private ThriftCompactCheck(byte[] data) => _data = data;

    /// <summary>Null when <paramref name="data"/> is one well-formed struct; else what is wrong with it.</summary>
    public static string? Problem(byte[] data)
    {
        try
        {
            var check = new ThriftCompactCheck(data);
            check.SkipStruct(0);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }

    private void SkipStruct(int depth)
    {
        if (depth > MaxDepth) throw new FormatException($"nested deeper than {MaxDepth}");
        while (true)
        {
            var header = Next();
            if (header == 0) return; // stop
            if (header >> 4 == 0) SkipVarint(); // a field id that is not a small delta follows as a varint
            SkipValue(header & 0x0F, depth, inContainer: false);
        }
    }

    private void SkipValue(int type, int depth, bool inContainer)
    {
        switch (type)
        {
            case 1 or 2: // booleans: in the field header, but one byte of their own as list or map elements
                if (inContainer) Next();
                break;
            case 3: Skip(1); break;
            case 4 or 5 or 6: SkipVarint(); break;
            case 7: Skip(8); break;
            case 8: Skip(Count()); break;
            case 9 or 10:
                var list = Next();
                var size = list >> 4 == 15 ? Count() : list >> 4;
                for (var i = 0; i < size; i++) SkipValue(list & 0x0F, depth + 1, inContainer: true);
                break;
            case 11:
                var entries = Count();
                if (entries == 0) break;
                var types = Next();
                for (var i = 0; i < entries; i++)
                {
                    SkipValue(types >> 4, depth + 1, inContainer: true);
                    SkipValue(types & 0x0F, depth + 1, inContainer: true);
                }
                break;
            case 12: SkipStruct(depth + 1); break;
            default: throw new FormatException($"unknown field type {type} at byte {_position}");
        }
    }

    /// <summary>A length or element count: each counted thing takes at least one byte, so no more than the bytes left.</summary>
    private int Count()
    {
        var count = SkipVarint();
        if (count < 0 || count > _data.Length - _position) throw new FormatException($"a count of {count} at byte {_position} runs past the end");
        return (int)count;
    }

    private long SkipVarint()
    {
        long value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Next();
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new FormatException($"a varint longer than 10 bytes at byte {_position}");
    }

    private void Skip(int bytes)
    {
        if (bytes > _data.Length - _position) throw new FormatException($"{bytes} bytes at byte {_position} run past the end");
        _position += bytes;
    }

    private byte Next()
    {
        if (_position >= _data.Length) throw new FormatException("it ends inside a value");
        return _data[_position++];
    }
}
