using System.CommandLine;
using Spectre.Console;
using Streaming.Grains;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// `streaming anneal --run R --steps A [--wait]`: ask for a release now. The trainer forks an anneal branch of
/// A steps on the next blocks, stores and evaluates the release, and the main trajectory goes on from the fork.
/// `--mode average` releases the run's moving average of its weights instead, at once and without a training step.
/// `--budget N` and `--target-loss X [--max-steps N]` plan the branch's length from the run's own validation curve (the
/// annealing law fitted to it), print the plan and the loss the law predicts, then take that branch (`--plan-only`: not).
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
        var budget = TextOptions.Create("--budget", "Plan: a branch of N steps, with the loss the law fitted to the run's curve predicts for it", null);
        var targetLoss = TextOptions.Create("--target-loss", "Plan: the shortest branch the law fitted to the run's curve predicts reaches this validation loss on the current task's corpus", null);
        var maxSteps = TextOptions.Create("--max-steps", $"With --target-loss: the longest branch to consider [default: {AnnealPlanRequest.DefaultMaxSteps}, at most the blocks left to train]", null);
        var planOnly = new Option<bool>("--plan-only") { Description = "With --budget or --target-loss: print the plan, take no branch" };
        var wait = new Option<bool>("--wait") { Description = "Show the branch's progress and wait for the release's evaluation" };
        var command = new Command("anneal", "Take a release of a run now: an annealed branch of A steps off the main trajectory (or of a length planned from its loss curve), or its weight average")
        {
            run, steps, budget, targetLoss, maxSteps, planOnly, mode, wait, CommonOptions.Gateway, CommonOptions.Credentials,
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
            var plan = PlanRequest(parse, budget, targetLoss, maxSteps, planOnly);
            if (average && (parse.GetValue(steps) is not null || plan is not null))
                throw new UserError("--mode average takes no --steps, --budget or --target-loss: the average is released without training");
            if (!average && plan is not null && parse.GetValue(steps) is not null) throw new UserError("give --steps, --budget or --target-loss, not several");
            if (!average && plan is null && parse.GetValue(steps) is null)
                throw new UserError("--steps is required: the length of the anneal branch (or plan it with --budget N or --target-loss X, or use --mode average)");
            await using var silo = await SiloConnection.ConnectAsync(CommonOptions.Target(parse), cancellation);
            var trainer = silo.Client.GetGrain<ITrainerGrain>(name);
            var release = average ? await ReleaseAverage(trainer, name)
                : plan is not null ? await Planned(trainer, name, plan, parse.GetValue(wait), cancellation)
                : await Anneal(trainer, name, async () => await trainer.AnnealAsync(parse.GetValue(steps)!.Value), parse.GetValue(wait), cancellation);
            if (release is null || !parse.GetValue(wait)) return 0;
            if (average || plan is not null) release = await WaitForEvaluation(trainer, release, cancellation);
            Console.WriteLine($"release {release.Path ?? "(not saved: the run has no checkpoint folder)"} at step {release.Step:N0}");
            foreach (var (corpus, loss) in release.Loss) Console.WriteLine($"  validation loss {corpus}: {loss:F4}");
            if (PlannedRelease.Describe(release) is { } against) Console.WriteLine($"  {against}");
            return 0;
        }));
        return command;
    }

    /// <summary>The plan asked for by --budget or --target-loss (null when neither is given).</summary>
    static AnnealPlanRequest? PlanRequest(ParseResult parse, Option<string[]> budget, Option<string[]> targetLoss, Option<string[]> maxSteps, Option<bool> planOnly)
    {
        int? n, max;
        double? target;
        try
        {
            (n, target, max) = (TextOptions.SmallCount(parse, budget), TextOptions.OptionalNumber(parse, targetLoss), TextOptions.SmallCount(parse, maxSteps));
        }
        catch (ScheduleConfigException e)
        {
            throw new UserError(e.Message);
        }
        if (n is not null && target is not null) throw new UserError("give --budget or --target-loss, not both");
        if (max is not null && target is null) throw new UserError("--max-steps goes with --target-loss (a --budget is the branch's length)");
        if (n is null && target is null)
            return parse.GetValue(planOnly) ? throw new UserError("--plan-only goes with --budget or --target-loss") : null;
        return new AnnealPlanRequest(n, target, max, Start: !parse.GetValue(planOnly));
    }

    /// <summary>Plans the branch from the run's curve and prints the plan; unless only planning, takes it as <see cref="Anneal"/> does.</summary>
    static async Task<ReleaseInfo?> Planned(ITrainerGrain trainer, string name, AnnealPlanRequest request, bool wait, CancellationToken cancellation)
    {
        PlannedAnneal? plan = null;
        var release = await Anneal(trainer, name, async () =>
        {
            plan = await trainer.PlanAnnealAsync(request);
            Console.WriteLine($"planned anneal of run {name}: {plan.Steps} steps from main step {plan.MainStep:N0}, predicted validation loss " +
                $"{plan.PredictedLoss:F4} on {plan.Corpus} (the annealing law fitted to {plan.Points} evaluations, rms error {plan.FitError:F4}, momentum decay {plan.MomentumDecay})");
            return plan.Ticket;
        }, wait, cancellation);
        return release;
    }

    static async Task<ReleaseInfo> ReleaseAverage(ITrainerGrain trainer, string name)
    {
        var release = await CommonOptions.Call(trainer.ReleaseAverageAsync);
        Console.WriteLine($"released the weight average of run {name} at step {release.Step:N0} (task {release.Task}): {release.Path ?? "not saved: the run has no checkpoint folder"}");
        return release;
    }

    /// <summary>Asks for the branch (<paramref name="ask"/>; a null ticket: none was taken); with <paramref name="wait"/>, shows
    /// it and returns its release (null without).</summary>
    static async Task<ReleaseInfo?> Anneal(ITrainerGrain trainer, string name, Func<Task<AnnealTicket?>> ask, bool wait, CancellationToken cancellation)
    {
        var releasesBefore = (await trainer.GetStatusAsync()).Releases.Count;
        if (await CommonOptions.Call(ask) is not { } ticket) return null;
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
