using System.CommandLine;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>`streaming ingest --run R PATH [--name N]`: queue a corpus as the run's next task while training goes on.</summary>
public static class IngestCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run to train on this corpus", Required = true };
        var name = new Option<string?>("--name") { Description = "The corpus name (default: the file or folder name)" };
        var path = new Argument<string>("path") { Description = "A corpus file or folder, readable by the silo" };
        var command = new Command("ingest", "Queue a corpus as the next task of a run") { run, name, path, CommonOptions.Gateway };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var source = Path.GetFullPath(parse.GetValue(path)!);
            if (!File.Exists(source) && !Directory.Exists(source)) throw new UserError($"corpus '{source}' does not exist");
            var corpus = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(source));
            await using var silo = await SiloConnection.ConnectAsync(parse.GetValue(CommonOptions.Gateway), cancellation);
            var info = await CommonOptions.Call(() => silo.Client.GetGrain<ICorpusGrain>(corpus).IngestAsync(new IngestRequest(parse.GetValue(run)!, source)));
            Console.WriteLine($"queued {info.Name} on run {parse.GetValue(run)}: {info.Tokens:N0} tokens in {info.Blocks:N0} blocks");
            return 0;
        }));
        return command;
    }
}
