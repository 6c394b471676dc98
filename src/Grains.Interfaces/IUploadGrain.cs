using Orleans.Concurrency;

namespace Streaming.Grains;

/// <summary>
/// A corpus (one file, or every file of a folder) that a client sends to the cluster in chunks, keyed by
/// <see cref="UploadManifest.Id"/>: the same content under the same names is one upload, so a second send of it resumes
/// where the silo's copy ends, or finds it complete. The silo keeps the bytes on its data volume, one chunk in memory
/// at a time; <see cref="IngestRequest.Upload"/> then names the upload to ingest. Refusals throw
/// <see cref="IngestFailedException"/> (one line).
/// </summary>
public interface IUploadGrain : IGrainWithStringKey
{
    /// <summary>Declares what the upload holds (again, on a resume: it must be the same) and says how much of each file the
    /// silo already has. Refuses an upload over the silo's size limit, and names that are not plain relative paths.</summary>
    Task<UploadStatus> BeginAsync(UploadManifest manifest);

    /// <summary>Writes <paramref name="chunk"/> at <paramref name="offset"/> of file <paramref name="file"/> (its index in the
    /// manifest) when the silo holds exactly <paramref name="offset"/> bytes of it, else writes nothing (a chunk already
    /// there, or a gap). Returns the bytes the silo holds of the file afterwards, where the next chunk goes.</summary>
    Task<long> AppendAsync(int file, long offset, byte[] chunk);

    /// <summary>Checks every file against its SHA-256 and makes the upload complete (durable, in place, ready to ingest).
    /// A file that does not match is discarded, to be sent again. Long for large files: it reads them all.</summary>
    [ResponseTimeout("01:00:00")]
    Task CompleteAsync();
}

/// <summary>What the silo holds of an upload: <see cref="Complete"/>, or the bytes received of each file so far.</summary>
[GenerateSerializer, Immutable]
public sealed record UploadStatus(
    [property: Id(0)] bool Complete,
    [property: Id(1)] IReadOnlyList<long> Received);
