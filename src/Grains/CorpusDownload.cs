using Streaming.Training;
using System.Buffers;
using System.Net;
using Streaming.Training.Data;

namespace Streaming.Grains;

/// <summary>
/// Fetches a corpus file that a client names by URL into a local file, streamed (one buffer in memory, whatever the
/// size), refusing a body over a size cap and a server that stops answering; every failure is one
/// <see cref="IngestFailedException"/> line that names the URL.
/// </summary>
public static class CorpusDownload
{
    const int BufferBytes = 1 << 16;

    /// <summary>One client for the process: it pools connections, and recycling them picks up DNS changes. No overall
    /// timeout: a large corpus may take hours; <see cref="ToFileAsync"/> bounds each wait instead.</summary>
    static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Downloads <paramref name="url"/> into <paramref name="folder"/> under the URL's file name (its extensions say the
    /// format and compression, as a local file's do) and returns that file's path. <paramref name="idleTimeout"/> bounds
    /// the wait for the answer and for each piece of the body; <paramref name="progress"/> gets the bytes so far and the
    /// announced length (0 when the server does not say).
    /// </summary>
    public static async Task<string> ToFileAsync(Uri url, string folder, long maxBytes, TimeSpan idleTimeout,
        Action<long, long> progress, CancellationToken cancellation = default)
    {
        var file = Path.Combine(folder, LocalName(url));
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(idleTimeout);
        try
        {
            using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, idle.Token);
            if (!response.IsSuccessStatusCode)
                throw new IngestFailedException($"{url}: the server answered HTTP {(int)response.StatusCode} {Reason(response)}");
            var length = response.Content.Headers.ContentLength ?? 0;
            if (length > maxBytes) throw TooLarge(url, maxBytes, length);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token);
            await using var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, useAsync: true);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
            try
            {
                long received = 0;
                while (true)
                {
                    idle.CancelAfter(idleTimeout);
                    var read = await body.ReadAsync(buffer.AsMemory(0, BufferBytes), idle.Token);
                    if (read == 0) break;
                    received += read;
                    // The announced length may be absent or wrong: the cap holds for what actually arrives.
                    if (received > maxBytes) throw TooLarge(url, maxBytes, announced: null);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellation);
                    progress(received, length);
                }
                if (received == 0) throw new IngestFailedException($"{url}: the server sent an empty body");
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return file;
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new IngestFailedException($"{url}: the server sent nothing for {idleTimeout.TotalSeconds:0} s: timed out");
        }
        catch (HttpRequestException e)
        {
            throw new IngestFailedException($"{url}: {ExceptionText.FirstLine(ExceptionText.Innermost(e).Message)}");
        }
        catch (IOException e) when (e.InnerException is HttpRequestException or System.Net.Sockets.SocketException)
        {
            // The connection broke while the body was being read.
            throw new IngestFailedException($"{url}: the download broke off: {ExceptionText.FirstLine(ExceptionText.Innermost(e).Message)}");
        }
    }

    /// <summary>The URL's file name, made safe as a file name here; the extensions, which say the format, are kept.</summary>
    static string LocalName(Uri url)
    {
        var name = new string([.. CorpusSource.FileNameOf(url).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
        return name.Trim('.').Length == 0 ? "download" : name;
    }

    static IngestFailedException TooLarge(Uri url, long maxBytes, long? announced) =>
        new($"{url}: the file is over the silo's download limit of {ByteSize.Format(maxBytes)}"
            + (announced is { } bytes ? $" ({ByteSize.Format(bytes)})" : "") + "; the silo's --max-download-mb sets the limit");

    static string Reason(HttpResponseMessage response) =>
        response.ReasonPhrase is { Length: > 0 } reason ? reason : ((HttpStatusCode)response.StatusCode).ToString();
}
