using System.Diagnostics;
using System.Globalization;
using Streaming.Schedules;

namespace Streaming.Training.Tests.Schedules;

/// <summary>Runs the `streaming` client, built with the tests in the same configuration, through `dotnet`.</summary>
public sealed class StreamingCli
{
    public string Root { get; } = Data.RepositoryRoot.Find();
    public string Dll { get; } = Path.Combine(AppContext.BaseDirectory.Replace("/tests/Training.Tests/", "/src/Client/"), "streaming.dll");

    public (int Code, string Out, string Err) Schedule(string args) => Run("dotnet", $"\"{Dll}\" schedule {args}");

    private (int Code, string Out, string Err) Run(string file, string args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root ?? "." };
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}

public class ScheduleCliTests(StreamingCli cli) : IClassFixture<StreamingCli>
{
    private const string InfiniteExample =
        "--kind infinite --max-lr 3e-4 --const-lr 1.65e-4 --min-lr 3e-5 --warmup 10 --cooldown 40 --cooldown-shape cosine "
        + "--anneal-shape exponential --tasks 100,80,60 --anneal-fraction 0.15";

    private const string RepeatedCosineExample = "--kind repeated-cosine --max-lr 3e-4 --min-lr 3e-5 --warmup 10 --tasks 100,80,60";

    [Theory]
    [InlineData(InfiniteExample)]
    [InlineData(RepeatedCosineExample)]
    [InlineData("--kind wsd --warmup 5 --tasks 40,40 --anneal-steps 6")]
    [InlineData("--kind rex --warmup 0 --tasks 30,20")]
    public void PrintsOneRowPerExecutedStepWithRoundTripRates(string args)
    {
        var (code, stdout, stderr) = cli.Schedule(args);
        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal("step,task,phase,lr", lines[0]);

        var config = Parse(args);
        var rows = SchedulePlanner.Plan(config.Config, config.Tasks);
        Assert.Equal(rows.Count, lines.Length - 1);
        for (var i = 0; i < rows.Count; i++)
        {
            var cells = lines[i + 1].Split(',');
            Assert.Equal(rows[i].Step.ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(rows[i].Task.ToString(CultureInfo.InvariantCulture), cells[1]);
            Assert.Equal(rows[i].Phase.Name(), cells[2]);
            Assert.Equal(rows[i].LearningRate, double.Parse(cells[3], CultureInfo.InvariantCulture)); // bit-exact
        }
    }

    [Theory]
    [InlineData("--const-lr 1.65e-4 --max-lr 1e-4", "error: --const-lr: must not exceed --max-lr (1.65e-4 > 1e-4)")]
    [InlineData("--max-lr abc", "error: --max-lr: not a number ('abc')")]
    [InlineData("--max-lr", "error: --max-lr: needs a value")]
    [InlineData("--warmup 2.5", "error: --warmup: not a whole number of steps ('2.5')")]
    [InlineData("--tasks 10,,20", "error: --tasks: '' is not a whole number of steps (expected e.g. 100,80,60)")]
    [InlineData("--min-lr 0", "error: --min-lr: must be a positive number (0)")]
    [InlineData("--kind foo", "error: --kind: unknown schedule kind 'foo' (one of infinite, repeated-cosine, wsd, cosine, linear, constant, inverse-sqrt, rex)")]
    [InlineData("--anneal-fraction 1.2", "error: --anneal-fraction: must be in [0, 1) (1.2)")]
    [InlineData("--kind repeated-cosine --warmup 10 --tasks 100,10", "error: --tasks: task 1 has 10 steps; a repeated-cosine task must be longer than --warmup (10)")]
    [InlineData("--cooldown-shape square", "error: --cooldown-shape: unknown shape 'square' (one of cosine, inverse-sqrt, linear)")]
    [InlineData("--bogus 1", "error: unknown argument '--bogus' (see streaming schedule --help)")]
    [InlineData("--max-lr 1 --max-lr 2", "error: --max-lr: given more than once")]
    public void BadInputIsOneLineOnStderrAndExitCode2(string args, string message)
    {
        var (code, stdout, stderr) = cli.Schedule(args);
        Assert.Equal(2, code);
        Assert.Equal(message, stderr.TrimEnd('\n'));
        Assert.Equal("", stdout);
    }

    [Fact]
    public void PlotWritesAPng()
    {
        var png = Path.Combine(Path.GetTempPath(), $"schedule-{Guid.NewGuid():N}.png");
        try
        {
            var (code, _, stderr) = cli.Schedule($"{InfiniteExample} --plot {png}");
            Assert.True(code == 0, stderr);
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 10_000);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
        finally { File.Delete(png); }
    }

    /// <summary>The few flags these tests use, parsed the obvious way.</summary>
    private static (ScheduleConfig Config, long[] Tasks) Parse(string args)
    {
        var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var config = new ScheduleConfig();
        var tasks = new[] { 1000L };
        for (var i = 0; i < words.Length; i += 2)
        {
            var v = words[i + 1];
            double D() => double.Parse(v, CultureInfo.InvariantCulture);
            config = words[i] switch
            {
                "--kind" => config with { Kind = v },
                "--max-lr" => config with { MaxLr = D() },
                "--const-lr" => config with { ConstLr = D() },
                "--min-lr" => config with { MinLr = D() },
                "--warmup" => config with { WarmupSteps = long.Parse(v) },
                "--cooldown" => config with { CooldownSteps = long.Parse(v) },
                "--cooldown-shape" => config with { CooldownShape = v },
                "--anneal-shape" => config with { AnnealShape = v },
                "--anneal-fraction" => config with { AnnealFraction = D() },
                "--anneal-steps" => config with { AnnealSteps = long.Parse(v) },
                "--tasks" => config,
                _ => throw new ArgumentException(words[i]),
            };
            if (words[i] == "--tasks") tasks = v.Split(',').Select(long.Parse).ToArray();
        }
        return (config, tasks);
    }
}
