using Streaming.Training.Data;

namespace Streaming.Training.Loop;

/// <summary>The corpora stored under a data folder, as the loop reads them; each store is opened once and kept.</summary>
public sealed class StoredCorpora(string dataRoot, int validationBlocks) : ICorpusData, IDisposable
{
    readonly Dictionary<string, BlockStore> stores = [];

    BlockStore Store(string corpus)
    {
        lock (stores)
        {
            if (!stores.TryGetValue(corpus, out var store)) stores[corpus] = store = BlockStore.Open(dataRoot, corpus);
            return store;
        }
    }

    public IEnumerable<int[]> ValidationBlocks(string corpus)
    {
        var store = Store(corpus);
        for (long i = 0; i < Math.Min(store.ValidationBlockCount, validationBlocks); i++)
            yield return store.ReadValidationBlock(i);
    }

    public long TrainBlockCount(string corpus) => Store(corpus).TrainBlockCount;

    public int[] ReadTrainBlock(string corpus, long sequence) => Store(corpus).ReadBlock(sequence);

    public void Dispose()
    {
        lock (stores)
        {
            foreach (var store in stores.Values) store.Dispose();
            stores.Clear();
        }
    }
}
