using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Streaming.Training.Data;

/// <summary>
/// Read access to a stored corpus: fixed-size blocks of token ids addressed by sequence number
/// (train and validation parts separately). Reads are positional, so one store can serve several
/// threads at once. Opening checks the files against the manifest; every read checks the bytes it reads against the
/// token files' checksums (<see cref="TokenChecksums"/>; a corpus stored before them is read unchecked).
/// </summary>
public sealed class BlockStore : IDisposable
{
    private readonly TokenFile _train;
    private readonly TokenFile _validation;

    /// <summary>An open token file and, where the corpus has them, its checksums.</summary>
    private sealed record TokenFile(string Name, SafeFileHandle Handle, SafeFileHandle? Checksums, long Length) : IDisposable
    {
        public void Dispose()
        {
            Handle.Dispose();
            Checksums?.Dispose();
        }
    }

    private BlockStore(string directory, CorpusManifest manifest, TokenFile train, TokenFile validation)
    {
        Directory = directory;
        Manifest = manifest;
        _train = train;
        _validation = validation;
    }

    /// <summary><c>&lt;dataRoot&gt;/corpora</c>: every stored corpus, one folder each.</summary>
    public static string CorporaDirectory(string dataRoot) => Path.Combine(Path.GetFullPath(dataRoot), "corpora");

    /// <summary><c>&lt;dataRoot&gt;/corpora/&lt;name&gt;</c>.</summary>
    /// <exception cref="ArgumentException">The name is not 1-100 letters, digits, '.', '_' or '-' (starting with a letter or digit).</exception>
    public static string CorpusDirectory(string dataRoot, string name)
    {
        if (!CorpusIngestor.CorpusName().IsMatch(name))
            throw new ArgumentException($"invalid corpus name '{name}': use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)");
        return Path.Combine(CorporaDirectory(dataRoot), name);
    }

    /// <exception cref="CorpusFormatException">No stored corpus there, or its files do not match the manifest.</exception>
    public static BlockStore Open(string corpusDirectory)
    {
        var manifest = CorpusManifest.Load(corpusDirectory);
        var train = OpenChecked(corpusDirectory, CorpusIngestor.TrainFile, manifest.TrainTokens, manifest);
        try
        {
            var validation = OpenChecked(corpusDirectory, CorpusIngestor.ValidationFile, manifest.ValidationTokens, manifest);
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
        Read(_train, sequence * BlockSize, tokens);
        return tokens;
    }

    /// <summary>Reads train block <paramref name="sequence"/> into <paramref name="destination"/>; returns its length.</summary>
    public int ReadBlock(long sequence, Span<int> destination)
    {
        var length = BlockLength(sequence);
        Read(_train, sequence * BlockSize, destination[..length]);
        return length;
    }

    /// <summary>Train blocks of <paramref name="blockTokens"/> tokens: a run cuts the stored tokens into its own batch size
    /// (the stored block size is only the default). A last block of one token predicts nothing and is not counted
    /// (<see cref="TrainBlocks"/>), also where the store holds one.</summary>
    public long TrainBlockCountOf(int blockTokens) => TrainBlocks.Count(TrainTokens, blockTokens);

    /// <summary>Train block <paramref name="sequence"/> when blocks are <paramref name="blockTokens"/> tokens long.</summary>
    public int[] ReadBlock(long sequence, int blockTokens)
    {
        if (blockTokens == BlockSize) return ReadBlock(sequence);
        var blocks = TrainBlockCountOf(blockTokens);
        if (sequence < 0 || sequence >= blocks)
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"corpus '{Name}' has blocks 0..{blocks - 1} of {blockTokens} tokens");
        var offset = sequence * blockTokens;
        var tokens = new int[(int)Math.Min(blockTokens, TrainTokens - offset)];
        Read(_train, offset, tokens);
        return tokens;
    }

    public int[] ReadValidationBlock(long sequence)
    {
        var tokens = new int[ValidationBlockLength(sequence)];
        Read(_validation, sequence * BlockSize, tokens);
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

    /// <summary>Reads the tokens from token <paramref name="first"/> on into <paramref name="destination"/>, checked.</summary>
    private void Read(TokenFile file, long first, Span<int> destination)
    {
        var width = Manifest.TokenBytes;
        var bytes = new byte[destination.Length * width];
        var offset = first * width;
        if (file.Checksums is { } sums)
            TokenChecksums.ReadVerified(file.Handle, sums, file.Length, Manifest.ChecksumChunkBytes!.Value, offset, bytes, $"corpus {Name}: {file.Name}");
        else
        {
            var read = 0;
            while (read < bytes.Length)
            {
                var n = RandomAccess.Read(file.Handle, bytes.AsSpan(read), offset + read);
                if (n == 0) throw new CorpusFormatException($"{Directory}: token file ends early at byte {offset + read}");
                read += n;
            }
        }
        for (var i = 0; i < destination.Length; i++)
            destination[i] = width == 2
                ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2))
                : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
    }

    private static TokenFile OpenChecked(string directory, string file, long tokens, CorpusManifest manifest)
    {
        var width = manifest.TokenBytes;
        var path = Path.Combine(directory, file);
        if (!File.Exists(path)) throw new CorpusFormatException($"{path}: missing (the manifest lists {tokens} tokens)");
        var length = new FileInfo(path).Length;
        if (length != tokens * width)
            throw new CorpusFormatException($"{path}: {length} bytes, but the manifest says {tokens} tokens of {width} bytes");
        SafeFileHandle? sums = null;
        if (manifest.ChecksumChunkBytes is { } chunk)
        {
            var sumsPath = TokenChecksums.PathOf(path);
            var expected = (length + chunk - 1) / chunk * 8;
            if (!File.Exists(sumsPath) || new FileInfo(sumsPath).Length != expected)
                throw new CorpusFormatException($"corpus {manifest.Name}: {file}{TokenChecksums.Extension} is missing or damaged (it must hold {expected:N0} bytes): "
                    + "the stored corpus cannot be checked (ingest its source again under another name)");
            sums = File.OpenHandle(sumsPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        return new TokenFile(file, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read), sums, length);
    }
}
