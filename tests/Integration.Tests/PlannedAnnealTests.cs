using Streaming.Grains;
using Streaming.Training.Data;
using Streaming.Training.Model;
using Streaming.Schedules;

namespace Streaming.Integration.Tests;

/// <summary>Anneals planned from a run's own validation curve through the trainer grain: the branch takes the planned
/// length, its release reports the predicted loss beside the measured one, and what cannot be planned is one line.</summary>
public sealed class PlannedAnnealTests() : OneSiloCluster("planned")
{
    protected override void Configure(StreamingOptions o)
    {
        o.Model = new GptConfig(Layers: 1, Width: 32, Heads: 2, Context: 32, Vocabulary: 256);
        o.BlockTokens = 4 * 32 + 1;
        o.EvaluateEvery = 2;
        // A cooldown the curve sees (so the fit knows what a lower rate gains), and no paper-protocol branches.
        o.Schedule = new ScheduleConfig { Kind = "infinite", MaxLr = 1e-2, ConstLr = 1e-3, MinLr = 1e-4, WarmupSteps = 2, CooldownSteps = 30 };
    }

    async Task<ITrainerGrain> Ingest(string run, RunSettings settings)
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>(run);
        await trainer.ConfigureAsync(settings);
        await Cluster.Client.GetGrain<ICorpusGrain>("english").IngestAsync(new IngestRequest(run, SampleCorpora.File("english")));
        return trainer;
    }

    /// <summary>Waits until at least <paramref name="count"/> evaluations of the run's main trajectory carry their main step, one of
    /// them past <paramref name="mainStep"/>.</summary>
    async Task WaitForMainEvaluations(string run, int count, long mainStep)
    {
        var evaluator = Cluster.Client.GetGrain<IEvaluatorGrain>(run);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while ((await evaluator.GetReportAsync()).Main.Where(m => m.Snapshot.MainStep > 0 && m.Error is null).ToList() is var main
            && (main.Count < count || main.Max(m => m.Snapshot.MainStep) < mainStep))
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} main evaluations of run {run}, or none past main step {mainStep}, after 2 minutes");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task APlannedAnnealRunsItsBudgetAndItsReleaseReportsPredictedAndMeasuredLoss()
    {
        var trainer = Cluster.Client.GetGrain<ITrainerGrain>("planned");
        Assert.Contains("no corpora yet",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.PlanAnnealAsync(new(5, null, null, Start: true)))).Message);
        await Ingest("planned", new RunSettings { TaskSteps = 400 });
        // A curve through the cooldown and onto the constant rate: the drop of the rate that tells the law what annealing gains.
        await WaitForMainEvaluations("planned", 12, mainStep: 50);

        var plan = await trainer.PlanAnnealAsync(new(Budget: 5, TargetLoss: null, MaxSteps: null, Start: true));
        Assert.Equal(5, plan.Steps);
        Assert.Equal("english", plan.Corpus);
        Assert.True(plan.Points >= 12, $"{plan.Points} points");
        Assert.Equal(5, plan.Ticket!.Steps);
        Assert.InRange(plan.PredictedLoss, 0.5, 6);

        var status = await WaitFor(trainer, s => s.Corpora[0].TokensRead == s.Corpora[0].TokensTotal && s.PendingAnnealSteps is null
            && s.Releases.Count == 2 && s.Releases.All(r => r.Loss.Count > 0));
        var planned = Assert.Single(status.Releases, r => r.Predicted is not null);
        Assert.Equal("on-demand", planned.Mode);
        Assert.Equal(new PredictedLoss("english", plan.PredictedLoss), planned.Predicted);
        Assert.True(double.IsFinite(planned.Loss["english"]));
        // The branch took exactly the planned steps: the task's end counts every block once on the main trajectory, and the branch's.
        Assert.Equal(400 + plan.Steps, status.Releases.Single(r => r.Mode == "task-end").Step);

        // A finished run still plans (only): the same fit, from its main step at the end.
        var only = await trainer.PlanAnnealAsync(new(Budget: 20, TargetLoss: null, MaxSteps: null, Start: false));
        Assert.Null(only.Ticket);
        Assert.Equal(400, only.MainStep);
        Assert.Null((await trainer.GetStatusAsync()).PendingAnnealSteps);
        var reachable = await trainer.PlanAnnealAsync(new(Budget: null, TargetLoss: only.PredictedLoss, MaxSteps: 100, Start: false));
        Assert.InRange(reachable.Steps, 1, 20);
        Assert.True(reachable.PredictedLoss <= only.PredictedLoss);
        var unreachable = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.PlanAnnealAsync(new(null, 0.01, 40, Start: false)));
        Assert.Matches(@"^run 'planned': by the law fitted to its curve no anneal branch of at most 40 steps reaches a loss of 0\.01 on english; " +
            @"the best, \d+ steps, is predicted to end at \d\.\d{4}$", unreachable.Message);
        // Starting it needs blocks to train: there are none left.
        Assert.Contains("left to train", (await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.PlanAnnealAsync(new(5, null, null, Start: true)))).Message);
    }

    [Fact]
    public async Task WhatCannotBePlannedIsRefusedInOneLine()
    {
        var rare = await Ingest("rare", new RunSettings { TaskSteps = 12, EvaluateEvery = 1000 });
        // Once the task-end release is evaluated too, so that the refusal does not also count it as waiting for the evaluator.
        await WaitFor(rare, s => s.Corpora[0].TokensRead == s.Corpora[0].TokensTotal
            && s.Releases.Count == 1 && s.Releases[0].Loss.Count > 0 && s.EvaluationsPending == 0);
        Assert.Equal("run 'rare' has 0 evaluations of its main trajectory on english so far; fitting the annealing law needs at least 4 " +
            "(one every 1000 main steps): train longer, or create the run with a smaller --evaluate-every",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => rare.PlanAnnealAsync(new(5, null, null, Start: false)))).Message);
        Assert.Equal("give either a budget of steps or a target loss",
            (await Assert.ThrowsAsync<ArgumentException>(() => rare.PlanAnnealAsync(new(5, 2.0, null, Start: false)))).Message);
        Assert.Equal("--budget must be at least 1, not 0",
            (await Assert.ThrowsAsync<ArgumentException>(() => rare.PlanAnnealAsync(new(0, null, null, Start: false)))).Message);
        Assert.Equal("--target-loss must be a positive number, not -1",
            (await Assert.ThrowsAsync<ArgumentException>(() => rare.PlanAnnealAsync(new(null, -1, null, Start: false)))).Message);

        var constant = await Ingest("constant", new RunSettings { Schedule = "constant", TaskSteps = 4 });
        Assert.Equal("run 'constant' uses a constant schedule, which has no anneal branches",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => constant.PlanAnnealAsync(new(5, null, null, Start: false)))).Message);
    }
}
