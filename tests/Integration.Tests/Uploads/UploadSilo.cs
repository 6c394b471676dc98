namespace Streaming.Integration.Tests;

/// <summary>
/// One real silo process for the upload tests, confined to a corpus root that none of the tests' files lie in (so only
/// an upload can bring them), with an upload limit of <see cref="MaxUploadMiB"/> MiB.
/// </summary>
public sealed class UploadSilo : IAsyncLifetime
{
    public const int MaxUploadMiB = 12;

    public string Data { get; } = Directory.CreateTempSubdirectory("streaming-upload-").FullName;

    /// <summary>The client's side: files here are outside the silo's corpus roots.</summary>
    public string Laptop { get; } = Directory.CreateTempSubdirectory("streaming-laptop-").FullName;

    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var roots = Directory.CreateDirectory(Path.Combine(Data, "corpora-root")).FullName;
        Silo = new SiloProcess(Path.Combine(Data, "silo"), $"--corpus-roots {roots} --max-upload-mb {MaxUploadMiB}");
        await Silo.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        Directory.Delete(Data, recursive: true);
        Directory.Delete(Laptop, recursive: true);
    }
}
