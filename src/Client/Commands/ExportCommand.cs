using System.CommandLine;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming export --run R --release NAME --out DIR`: a release in the Hugging Face GPT-2 layout (model.safetensors and
/// config.json, with the run's tokenizer named), for serving stacks and PyTorch. The silo writes DIR.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run whose release to export", Required = true };
        var release = new Option<string>("--release")
        {
            Description = "The release's name (the last part of its path in `streaming status`), or latest",
            DefaultValueFactory = _ => "latest",
        };
        var output = new Option<string>("--out") { Description = "Folder for model.safetensors and config.json (written by the silo; relative paths are taken from here)", Required = true };
        var command = new Command("export", "Export a release as model.safetensors + config.json in the Hugging Face GPT-2 layout")
        {
            run, release, output, CommonOptions.Gateway, CommonOptions.Credentials,
        };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var trainer = silo.Client.GetGrain<ITrainerGrain>(parse.GetValue(run)!);
            var directory = Path.GetFullPath(parse.GetValue(output)!);
            Console.WriteLine(await CommonOptions.Call(() => trainer.ExportAsync(parse.GetValue(release)!, directory)));
            return 0;
        }));
        return command;
    }
}
