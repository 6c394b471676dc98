using System.Net;

namespace Streaming.Integration.Tests;

/// <summary>
/// A local HTTP server for ingests by URL, on a free port of 127.0.0.1: <c>/NAME</c> serves file NAME of
/// <see cref="Folder"/> with its length, <c>/chunked/NAME</c> the same without a length (chunked), <c>/stall/NAME</c>
/// answers nothing for a minute; anything else is 404.
/// </summary>
public sealed class CorpusHttpServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly CancellationTokenSource stopping = new();

    public string Folder { get; } = Directory.CreateTempSubdirectory("streaming-http-").FullName;
    public string BaseUrl { get; } = $"http://127.0.0.1:{Executables.FreePort()}/";

    public CorpusHttpServer()
    {
        listener.Prefixes.Add(BaseUrl);
        listener.Start();
        _ = ServeAsync();
    }

    /// <summary>The URL of <paramref name="path"/> ("english.jsonl", "chunked/big.txt").</summary>
    public string Url(string path) => BaseUrl + path;

    async Task ServeAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url!.AbsolutePath.TrimStart('/');
            var (chunked, stall) = (path.StartsWith("chunked/"), path.StartsWith("stall/"));
            if (stall) await Task.Delay(TimeSpan.FromMinutes(1), stopping.Token);
            var file = Path.Combine(Folder, chunked || stall ? path[(path.IndexOf('/') + 1)..] : path);
            if (!File.Exists(file))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            if (chunked) response.SendChunked = true;
            else response.ContentLength64 = new FileInfo(file).Length;
            await using (var body = File.OpenRead(file)) await body.CopyToAsync(response.OutputStream, stopping.Token);
            response.Close();
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
        }
        catch (HttpListenerException)
        {
            // The silo hung up (a body over its limit): nothing to answer.
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        listener.Close();
        Directory.Delete(Folder, recursive: true);
    }
}
