using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Streaming.Training;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>
/// One upload (<see cref="IUploadGrain"/>), keyed by its manifest's id, kept in an <see cref="UploadFolder"/> on the data
/// volume. Its calls take turns, so two clients sending the same content at once just fill the same files, each skipping
/// the chunks the other wrote. Every refusal or file-system failure reaches the client as one line.
/// </summary>
public sealed class UploadGrain(IOptions<StreamingOptions> options, ILogger<UploadGrain> logger) : Grain, IUploadGrain
{
    UploadManifest? manifest;

    string Id => this.GetPrimaryKeyString();

    UploadFolder Folder => new(options.Value.DataDirectory, Id);

    public Task<UploadStatus> BeginAsync(UploadManifest declared)
    {
        if (!UploadManifest.IsId(Id) || declared.Id != Id) throw new IngestFailedException($"upload {Id} is not the id of what was declared");
        if (declared.Problem() is { } problem) throw new IngestFailedException($"upload refused: {problem}");
        var limit = options.Value.MaxUploadBytes;
        if (declared.TotalBytes > limit)
            throw new IngestFailedException($"{declared.Name} ({ByteSize.Format(declared.TotalBytes)}) is over the silo's upload limit of {ByteSize.Format(limit)}; "
                + "the silo's --max-upload-mb sets the limit");
        return OnDisk(() =>
        {
            Folder.Begin(declared);
            manifest = declared;
            return Task.FromResult(new UploadStatus(Folder.IsComplete(declared), Folder.Received(declared)));
        });
    }

    public Task<long> AppendAsync(int file, long offset, byte[] chunk)
    {
        var declared = Declared();
        if (file < 0 || file >= declared.Files.Count) throw new IngestFailedException($"upload {Id} has no file {file}");
        if (offset + chunk.Length > declared.Files[file].Length)
            throw new IngestFailedException($"a chunk runs past the declared end of {declared.Name}: the file changed while it was sent; send it again");
        return OnDisk(() => Folder.IsComplete(declared) ? Task.FromResult(declared.Files[file].Length) : Folder.AppendAsync(declared, file, offset, chunk));
    }

    public Task CompleteAsync()
    {
        var declared = Declared();
        return OnDisk(async () =>
        {
            var wrong = await Task.Run(() => Folder.Complete(declared));   // reads every byte: off the grain scheduler
            if (wrong.Count > 0)
                throw new IngestFailedException($"{string.Join(", ", wrong)} arrived different from what was sent (length or SHA-256) and "
                    + "was discarded: ingest again to send it anew");
            return true;
        });
    }

    /// <summary>The manifest of this upload, from memory or, after a silo restart or deactivation, from its folder.</summary>
    UploadManifest Declared() =>
        manifest ??= Folder.LoadManifest() ?? throw new IngestFailedException($"upload {Id} was not begun (or was removed as stale): ingest again");

    /// <summary>Runs a file-system step; a failure there is one line for the client and the details for the operator.</summary>
    async Task<T> OnDisk<T>(Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (DiskFull.Is(e))
        {
            logger.LogWarning("upload {Upload}: the data volume is full: {Error}", Id, ExceptionText.FirstLine(e.Message));
            throw new IngestFailedException($"the silo could not store the upload: {DiskFull.Describe(options.Value.DataDirectory)}; "
                + "free space or grow the volume, then ingest again (the upload goes on from what the silo holds)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError(e, "upload {Upload}: the data volume refused a write", Id);
            throw new IngestFailedException($"the silo could not store the upload: {ExceptionText.FirstLine(e.Message)}");
        }
    }
}
