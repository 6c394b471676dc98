using Streaming.Grains;

namespace Streaming.Client;

/// <summary>
/// Ingests a corpus that lies on the client's machine: hashes it, sends it to the cluster in chunks
/// (<see cref="IUploadGrain"/>, one chunk in memory at a time, resuming what the silo already holds of the same content)
/// and has the silo ingest its copy. For `streaming ingest` and whatever else feeds a run from local files.
/// </summary>
public static class CorpusUpload
{
    /// <summary>Bytes per call: far under Orleans' message size limit, large enough that a call's round trip is cheap beside it.</summary>
    public const int ChunkBytes = 4 << 20;

    /// <summary>
    /// Uploads <paramref name="request"/>'s <see cref="IngestRequest.Path"/>, a local file or folder, then ingests it as
    /// corpus <paramref name="corpus"/> with the rest of the request (run, tokenizer, duplicates) and returns the ingest's
    /// result. <paramref name="onProgress"/> gets the hashing (<see cref="IngestProgressInfo.HashPhase"/>), the upload
    /// (<see cref="IngestProgressInfo.UploadPhase"/>), then the silo's ingest phases. The silo names the source by the local
    /// path, so the same path again is "already queued". Failures throw as a grain call's do (<see cref="IngestFailedException"/>
    /// for refusals, one line), and <see cref="UserError"/> for a file that changes while it is sent or a silo that stops
    /// answering mid-upload.
    /// </summary>
    public static async Task<IngestResult> IngestAsync(IGrainFactory grains, string corpus, IngestRequest request,
        Action<IngestProgressInfo> onProgress, CancellationToken cancellation = default)
    {
        var local = await LocalCorpus.DescribeAsync(request.Path,
            (hashed, total) => onProgress(new IngestProgressInfo(corpus, IngestProgressInfo.HashPhase, hashed, total, 0, 0, 0)), cancellation);
        var total = local.Manifest.TotalBytes;
        try
        {
            await SendAsync(grains.GetGrain<IUploadGrain>(local.Manifest.Id), local,
                sent => onProgress(new IngestProgressInfo(corpus, IngestProgressInfo.UploadPhase, sent, total, 0, 0, 0)), cancellation);
        }
        catch (TimeoutException)
        {
            throw new UserError($"the silo did not answer in time while {local.Path} was uploaded: ingest it again to go on from what the silo holds");
        }
        return await grains.IngestAsync(corpus, request with { Path = local.Path, Upload = local.Manifest.Id }, onProgress, cancellation: cancellation);
    }

    /// <summary>Sends what the silo does not hold yet of <paramref name="local"/>, then has it checked and completed;
    /// <paramref name="sent"/> gets the bytes the silo holds so far.</summary>
    public static async Task SendAsync(IUploadGrain upload, LocalCorpus local, Action<long> sent, CancellationToken cancellation)
    {
        var status = await upload.BeginAsync(local.Manifest);
        if (status.Complete) return;
        var buffer = new byte[ChunkBytes];
        long before = 0;   // bytes of the files before this one
        for (var i = 0; i < local.Files.Count; i++)
        {
            var length = local.Manifest.Files[i].Length;
            var offset = status.Received[i];
            await using var file = new FileStream(local.Files[i], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
            while (offset < length)
            {
                sent(before + offset);
                var count = (int)Math.Min(ChunkBytes, length - offset);
                file.Position = offset;
                try
                {
                    await file.ReadExactlyAsync(buffer.AsMemory(0, count), cancellation);
                }
                catch (EndOfStreamException)
                {
                    throw new UserError($"{local.Files[i]} got shorter while it was sent: ingest it again once it stays as it is");
                }
                // The silo answers where the next chunk goes: past this one, or elsewhere when another sender got there first.
                offset = await upload.AppendAsync(i, offset, count == ChunkBytes ? buffer : buffer[..count]);
            }
            before += length;
        }
        sent(before);
        await upload.CompleteAsync();
    }
}
