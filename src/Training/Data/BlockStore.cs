using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Streaming.Training.Data;

/// <summary>
/// Read access to a stored corpus: fixed-size blocks of token ids addressed by sequence number
/// (train and validation parts separately). Reads are positional, so one store can serve several
/// threads at once. Opening checks the files against the manifest.
/// </summary>
public sealed class BlockStore : IDisposable
{
    private readonly SafeFileHandle _train;
    private readonly SafeFileHandle _validation;

    private BlockStore(string directory, CorpusManifest manifest, SafeFileHandle train, SafeFileHandle validation)
    {
        Directory = directory;
        Manifest = manifest;
        _train = train;
        _validation = validation;
    }

    /// <summary><c>&lt;dataRoot&gt;/corpora/&lt;name&gt;</c>.</summary>
    /// <exception cref="ArgumentException">The name is not 1-100 letters, digits, '.', '_' or '-' (starting with a letter or digit).</exception>
    public static string CorpusDirectory(string dataRoot, string name)
    {
        if (!CorpusIngestor.CorpusName().IsMatch(name))
            throw new ArgumentException($"invalid corpus name '{name}': use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)");
        return Path.Combine(Path.GetFullPath(dataRoot), "corpora", name);
    }

    /// <exception cref="CorpusFormatException">No stored corpus there, or its files do not match the manifest.</exception>
    public static BlockStore Open(string corpusDirectory)
    {
        var manifest = CorpusManifest.Load(corpusDirectory);
        var train = OpenChecked(corpusDirectory, CorpusIngestor.TrainFile, manifest.TrainTokens, manifest.TokenBytes);
        try
        {
            var validation = OpenChecked(corpusDirectory, CorpusIngestor.ValidationFile, manifest.ValidationTokens, manifest.TokenBytes);
            return new BlockStore(corpusDirectory, manifest, train, validation);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    public static BlockStore Open(string dataRoot, string name) => Open(CorpusDirectory(dataRoot, name));

    public string Directory { get; }
    public CorpusManifest Manifest { get; }
    public string Name => Manifest.Name;
    public int BlockSize => Manifest.BlockSize;
    public long TrainBlockCount => Manifest.TrainBlocks;
    public long TrainTokens => Manifest.TrainTokens;
    public long ValidationBlockCount => Manifest.ValidationBlocks;
    public long ValidationTokens => Manifest.ValidationTokens;

    /// <summary>Tokens in train block <paramref name="sequence"/>: the block size, or less for the last block.</summary>
    public int BlockLength(long sequence) => Length(sequence, TrainTokens, TrainBlockCount);

    public int ValidationBlockLength(long sequence) => Length(sequence, ValidationTokens, ValidationBlockCount);

    public int[] ReadBlock(long sequence)
    {
        var tokens = new int[BlockLength(sequence)];
        Read(_train, sequence, tokens);
        return tokens;
    }

    /// <summary>Reads train block <paramref name="sequence"/> into <paramref name="destination"/>; returns its length.</summary>
    public int ReadBlock(long sequence, Span<int> destination)
    {
        var length = BlockLength(sequence);
        Read(_train, sequence, destination[..length]);
        return length;
    }

    public int[] ReadValidationBlock(long sequence)
    {
        var tokens = new int[ValidationBlockLength(sequence)];
        Read(_validation, sequence, tokens);
        return tokens;
    }

    public void Dispose()
    {
        _train.Dispose();
        _validation.Dispose();
    }

    private int Length(long sequence, long tokens, long blocks)
    {
        if (sequence < 0 || sequence >= blocks)
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"corpus '{Name}' has blocks 0..{blocks - 1}");
        return (int)Math.Min(BlockSize, tokens - sequence * BlockSize);
    }

    private void Read(SafeFileHandle file, long sequence, Span<int> destination)
    {
        var width = Manifest.TokenBytes;
        var bytes = new byte[destination.Length * width];
        var offset = sequence * BlockSize * width;
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(file, bytes.AsSpan(read), offset + read);
            if (n == 0) throw new CorpusFormatException($"{Directory}: token file ends early at byte {offset + read}");
            read += n;
        }
        for (var i = 0; i < destination.Length; i++)
            destination[i] = width == 2
                ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))
                : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
    }

    private static SafeFileHandle OpenChecked(string directory, string file, long tokens, int width)
    {
        var path = Path.Combine(directory, file);
        if (!File.Exists(path)) throw new CorpusFormatException($"{path}: missing (the manifest lists {tokens} tokens)");
        var length = new FileInfo(path).Length;
        if (length != tokens * width)
            throw new CorpusFormatException($"{path}: {length} bytes, but the manifest says {tokens} tokens of {width} bytes");
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }
}
