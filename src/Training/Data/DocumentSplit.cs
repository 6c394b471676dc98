using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Streaming.Training.Data;

/// <summary>
/// Deterministic train/validation split by document content: a document is in validation when the
/// first 8 bytes of the SHA-256 of its UTF-8 text, read as a fraction of 2^64, fall below the
/// validation fraction. Identical texts land on the same side (no leak between the two), and the
/// split does not depend on file layout or order. Two corrections make small corpora usable, both
/// decided by the whole corpus, hence a plan built from every document's hash first: with at least
/// two documents and a positive fraction, if no document falls below the fraction the one with the
/// smallest value is validation; if every document does, the one with the largest value is train.
/// A corpus of one distinct document cannot be split this way (<see cref="HoldsOutDocuments"/> is false);
/// the ingestor then holds out whole blocks of its token stream instead (<see cref="BlockSplit"/>).
/// </summary>
public sealed class DocumentSplit
{
    public const double DefaultValidationFraction = 0.05;

    private readonly double _fraction;
    private readonly ulong? _forcedValidation;
    private readonly ulong? _forcedTrain;

    private DocumentSplit(double fraction, ulong? forcedValidation, ulong? forcedTrain, bool holdsOutDocuments)
    {
        _fraction = fraction;
        _forcedValidation = forcedValidation;
        _forcedTrain = forcedTrain;
        HoldsOutDocuments = holdsOutDocuments;
    }

    public double ValidationFraction => _fraction;

    /// <summary>Whether both sides get at least one document: the fraction is positive and the corpus has two distinct documents or more.</summary>
    public bool HoldsOutDocuments { get; }

    public static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));

    /// <summary>The document's place in [0, 1): the first 8 bytes of its hash, big-endian, over 2^64.</summary>
    public static ulong Position(ReadOnlySpan<byte> hash) => BinaryPrimitives.ReadUInt64BigEndian(hash);

    public bool IsValidation(ReadOnlySpan<byte> hash)
    {
        var position = Position(hash);
        if (position == _forcedValidation) return true;
        if (position == _forcedTrain) return false;
        return position < Threshold(_fraction);
    }

    public static DocumentSplit Plan(IEnumerable<byte[]> hashes, double validationFraction = DefaultValidationFraction)
    {
        var planner = new Planner(validationFraction);
        foreach (var hash in hashes) planner.Add(hash);
        return planner.Build();
    }

    private static ulong Threshold(double fraction) =>
        fraction <= 0 ? 0 : fraction >= 1 ? ulong.MaxValue : (ulong)(fraction * 18446744073709551616.0);

    /// <summary>Collects the hashes of a corpus one by one (constant memory) and builds its split.</summary>
    public sealed class Planner
    {
        private readonly double _fraction;
        private readonly ulong _threshold;
        private long _documents;
        private long _validation;
        private ulong _min = ulong.MaxValue;
        private ulong _max;

        public Planner(double validationFraction = DefaultValidationFraction)
        {
            if (double.IsNaN(validationFraction) || validationFraction < 0 || validationFraction >= 1)
                throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validation fraction must be in [0, 1)");
            _fraction = validationFraction;
            _threshold = Threshold(validationFraction);
        }

        public void Add(ReadOnlySpan<byte> hash)
        {
            var position = Position(hash);
            _documents++;
            if (position < _threshold) _validation++;
            _min = Math.Min(_min, position);
            _max = Math.Max(_max, position);
        }

        public DocumentSplit Build()
        {
            var enough = _documents >= 2 && _fraction > 0 && _min != _max;
            return new DocumentSplit(
                _fraction,
                enough && _validation == 0 ? _min : null,
                enough && _validation == _documents ? _max : null,
                enough);
        }
    }
}
