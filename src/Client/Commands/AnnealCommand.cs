using System.CommandLine;
using Spectre.Console;
using Streaming.Grains;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming anneal --run R --steps A [--wait]`: ask for a release now. The trainer forks an anneal branch of
/// A steps on the next blocks, stores and evaluates the release, and the main trajectory goes on from the fork.
/// `--mode average` releases the run's moving average of its weights instead, at once and without a training step.
/// </summary>
public static class AnnealCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "The run to take a release of", Required = true };
        var steps = new Option<int?>("--steps") { Description = "Length A of the anneal branch in optimizer steps (--mode anneal)" };
        var mode = new Option<string>("--mode")
        {
            Description = "anneal: a branch of A steps; average: the run's weight average now, no training step", DefaultValueFactory = _ => "anneal",
        };
        var wait = new Option<bool>("--wait") { Description = "Show the branch's progress and wait for the release's evaluation" };
        var command = new Command("anneal", "Take a release of a run now: an annealed branch of A steps off the main trajectory, or its weight average")
        {
            run, steps, mode, wait, CommonOptions.Gateway, CommonOptions.Credentials,
        };
        command.SetAction((parse, cancellation) => CommonOptions.Guard(async () =>
        {
            var name = parse.GetValue(run)!;
            var average = parse.GetValue(mode) switch
            {
                "anneal" => false,
                "average" => true,
                var other => throw new UserError($"--mode must be anneal or average, not '{other}'"),
            };
            if (average && parse.GetValue(steps) is not null) throw new UserError("--mode average takes no --steps: the average is released without training");
            if (!average && parse.GetValue(steps) is null) throw new UserError("--steps is required: the length of the anneal branch (or use --mode average)");
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var trainer = silo.Client.GetGrain<ITrainerGrain>(name);
            var release = average ? await ReleaseAverage(trainer, name) : await Anneal(trainer, name, parse.GetValue(steps)!.Value, parse.GetValue(wait), cancellation);
            if (release is null || !parse.GetValue(wait)) return 0;
            if (average) release = await WaitForEvaluation(trainer, release, cancellation);
            Console.WriteLine($"release {release.Path ?? "(not saved: the run has no checkpoint folder)"} at step {release.Step:N0}");
            foreach (var (corpus, loss) in release.Loss) Console.WriteLine($"  validation loss {corpus}: {loss:F4}");
            return 0;
        }));
        return command;
    }

    static async Task<ReleaseInfo> ReleaseAverage(ITrainerGrain trainer, string name)
    {
        var release = await CommonOptions.Call(trainer.ReleaseAverageAsync);
        Console.WriteLine($"released the weight average of run {name} at step {release.Step:N0} (task {release.Task}): {release.Path ?? "not saved: the run has no checkpoint folder"}");
        return release;
    }

    /// <summary>Asks for the branch; with <paramref name="wait"/>, shows it and returns its release (null without).</summary>
    static async Task<ReleaseInfo?> Anneal(ITrainerGrain trainer, string name, int steps, bool wait, CancellationToken cancellation)
    {
        var releasesBefore = (await trainer.GetStatusAsync()).Releases.Count;
        var ticket = await CommonOptions.Call(() => trainer.AnnealAsync(steps));
        Console.WriteLine($"anneal {ticket.Id} of run {name}: a branch of {ticket.Steps} steps on the next blocks ({ticket.BlocksAhead:N0} queued)");
        if (wait) return await WaitForRelease(trainer, releasesBefore, ticket, cancellation);
        Console.WriteLine("the release will appear as lastRelease in `streaming status`");
        return null;
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

    /// <summary>The release once the run's evaluator has scored it (a release without a folder is never scored: as it is).</summary>
    static async Task<ReleaseInfo> WaitForEvaluation(ITrainerGrain trainer, ReleaseInfo release, CancellationToken cancellation)
    {
        while (release.Path is not null)
        {
            var status = await trainer.GetStatusAsync();
            if (status.Phase.StartsWith("failed")) throw new UserError($"run {status.Run} {status.Phase}");
            if (status.Releases.LastOrDefault(r => r.Path == release.Path) is { Loss.Count: > 0 } scored) return scored;
            await Task.Delay(500, cancellation);
        }
        return release;
    }
}
