using CsCheck;

namespace Streaming.Training.Tests.Fuzz;

/// <summary>Random bytes (empty files included) under any corpus name or an unsupported one, given as the file or in a folder.</summary>
internal static class RandomBytesGen
{
    private static readonly string[] Names =
        ["a.txt", "a.jsonl", "a.parquet", "a.txt.gz", "a.jsonl.zst", "a.csv", "README", "a.parquet.gz", "a.TXT", "a.jsonl.GZ"];

    public static readonly Gen<CorpusCase> Cases =
        from name in Gen.OneOf(Names)
        from bytes in TextGen.Weighted((1, Gen.Const(Array.Empty<byte>())), (6, Gen.Byte.Array[1, 16384]), (3, Gen.Byte[9, 127].Array[1, 16384]))
        from max in TextGen.MaxDocumentBytes
        from blockSize in TextGen.BlockSize
        from inFolder in Gen.Bool
        select new CorpusCase("random-bytes", [new FileEntry(name, bytes)], inFolder ? null : name, max, blockSize);
}
