using System.CommandLine;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming anneal --run R --steps A [--wait]`: ask for a release now. The trainer forks an anneal branch of
/// A steps on the next blocks, stores and evaluates the release, and the main trajectory goes on from the fork.
/// </summary>
public static class AnnealCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run to take a release of", Required = true };
        var steps = new Option<int>("--steps") { Description = "Length A of the anneal branch in optimizer steps", Required = true };
        var wait = new Option<bool>("--wait") { Description = "Show the branch's progress and wait for the release" };
        var command = new Command("anneal", "Take an annealed release of a run now (a branch of A steps off the main trajectory)")
        {
            run, steps, wait, CommonOptions.Gateway,
        };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var name = parse.GetValue(run)!;
            await using var silo = await SiloConnection.ConnectAsync(parse.GetValue(CommonOptions.Gateway), cancellation);
            var trainer = silo.Client.GetGrain<ITrainerGrain>(name);
            var releasesBefore = (await trainer.GetStatusAsync()).Releases.Count;
            var ticket = await CommonOptions.Call(() => trainer.AnnealAsync(parse.GetValue(steps)));
            Console.WriteLine($"anneal {ticket.Id} of run {name}: a branch of {ticket.Steps} steps on the next blocks ({ticket.BlocksAhead:N0} queued)");
            if (!parse.GetValue(wait))
            {
                Console.WriteLine("the release will appear as lastRelease in `streaming status`");
                return 0;
            }
            var release = await WaitForRelease(trainer, releasesBefore, ticket, cancellation);
            Console.WriteLine($"release {release.Path ?? "(not saved: the run has no checkpoint folder)"} at step {release.Step:N0}");
            foreach (var (corpus, loss) in release.Loss) Console.WriteLine($"  validation loss {corpus}: {loss:F4}");
            return 0;
        }));
        return command;
    }

    static async Task<ReleaseInfo> WaitForRelease(ITrainerGrain trainer, int releasesBefore, AnnealTicket ticket, CancellationToken cancellation)
    {
        ReleaseInfo? release = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask($"anneal {ticket.Id}", maxValue: ticket.Steps);
                while (release is null)
                {
                    await Task.Delay(500, cancellation);
                    var status = await trainer.GetStatusAsync();
                    if (status.Phase.StartsWith("failed")) throw new UserError($"run {status.Run} {status.Phase}");
                    var onDemand = status.Releases.Skip(releasesBefore).Where(r => r.Mode == "on-demand").ToList();
                    if (onDemand.Count > 0) release = onDemand[^1];
                    bar.Value = release is not null ? ticket.Steps : status.Branch is { Mode: "on-demand" } b ? b.Steps : 0;
                    bar.Description = $"anneal {ticket.Id}  lr {status.Lr:G3}  loss {status.Loss:F3}";
                }
            });
        return release!;
    }
}
