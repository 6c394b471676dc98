namespace Streaming.Training.Data;

/// <summary>
/// <c>documents.hashes</c> of a stored corpus: a 64-bit hash of every document it holds (<see cref="DocumentSplit.Position"/>,
/// the first 8 bytes of the SHA-256 its split uses), sorted, copies kept, little-endian. Documents repeated across the
/// corpora of a run are counted by merging two such files, in constant memory whatever their sizes. The ingestor
/// writes it; corpora stored before it have none. A count may be too high by the hashes that match by chance: n·m/2^64
/// expected for corpora of n and m documents, 1 in 18 million for a million each.
/// </summary>
public static class DocumentHashes
{
    public const string FileName = "documents.hashes";

    /// <summary>
    /// How many documents of the corpus stored in <paramref name="corpus"/> are also in the one stored in
    /// <paramref name="other"/> (each copy in <paramref name="corpus"/> counted); null when either has no hash file.
    /// </summary>
    public static long? CountShared(string corpus, string other)
    {
        var (path, otherPath) = (Path.Combine(corpus, FileName), Path.Combine(other, FileName));
        if (!File.Exists(path) || !File.Exists(otherPath)) return null;
        using var left = new Reader(path);
        using var right = new Reader(otherPath);
        long shared = 0;
        while (left.Current is { } hash)
        {
            while (right.Current < hash) right.Next();
            if (right.Current == hash) shared++;
            left.Next();
        }
        return shared;
    }

    /// <summary>One hash file read in order; <see cref="Current"/> is null past its end.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly BinaryReader _reader;
        private long _left;

        public Reader(string path)
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
            _reader = new BinaryReader(stream);
            _left = stream.Length / sizeof(ulong);
            Next();
        }

        public ulong? Current { get; private set; }

        public void Next()
        {
            Current = _left-- > 0 ? _reader.ReadUInt64() : null;
        }

        public void Dispose() => _reader.Dispose();
    }

    /// <summary>
    /// Collects a corpus' document hashes in any order and writes the sorted file into its staging folder: an external
    /// sort, runs of at most 1M hashes (8 MiB) sorted in memory and spilled beside it, then merged.
    /// </summary>
    internal sealed class Writer(string directory) : IDisposable
    {
        private const int RunLength = 1 << 20;
        private readonly List<ulong> _pending = [];
        private readonly List<string> _runs = [];

        public void Add(ulong hash)
        {
            _pending.Add(hash);
            if (_pending.Count == RunLength) SpillRun();
        }

        /// <summary>Writes <see cref="FileName"/>, flushed to disk, and removes the runs.</summary>
        public void Commit()
        {
            var target = Path.Combine(directory, FileName);
            if (_runs.Count == 0)
            {
                Spill(target, durable: true);
                return;
            }
            if (_pending.Count > 0) SpillRun();
            var readers = _runs.Select(run => new Reader(run)).ToList();
            try
            {
                var next = new PriorityQueue<Reader, ulong>(readers.Where(r => r.Current is not null).Select(r => (r, r.Current!.Value)));
                using var output = Create(target);
                while (next.TryDequeue(out var reader, out var hash))
                {
                    output.Write(hash);
                    reader.Next();
                    if (reader.Current is { } following) next.Enqueue(reader, following);
                }
                Flush(output, durable: true);
            }
            finally
            {
                readers.ForEach(r => r.Dispose());
            }
            Dispose();
        }

        private void SpillRun()
        {
            var run = Path.Combine(directory, $"{FileName}.run-{_runs.Count}");
            _runs.Add(run);
            Spill(run, durable: false);
        }

        /// <summary>Sorts the pending hashes into <paramref name="path"/> and forgets them.</summary>
        private void Spill(string path, bool durable)
        {
            _pending.Sort();
            using (var output = Create(path))
            {
                foreach (var hash in _pending) output.Write(hash);
                Flush(output, durable);
            }
            _pending.Clear();
        }

        private static BinaryWriter Create(string path) =>
            new(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024));

        /// <summary>Durable: on disk before the manifest that declares the corpus complete (a spilled run need not be).</summary>
        private static void Flush(BinaryWriter output, bool durable)
        {
            output.Flush();
            ((FileStream)output.BaseStream).Flush(flushToDisk: durable);
        }

        /// <summary>Removes the spilled runs (a failed ingest deletes its whole staging folder anyway).</summary>
        public void Dispose()
        {
            foreach (var run in _runs) File.Delete(run);
            _runs.Clear();
        }
    }
}
