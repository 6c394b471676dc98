using System.Text;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Streaming.Grains;
using Streaming.Grains.Telemetry;

namespace Streaming.Silo;

/// <summary>
/// The silo's health endpoints, each for one question. <c>/health/live</c>: the process answers (a liveness probe;
/// restarting would not mend a failed run). <c>/health/ready</c>: the silo has started, is not stopping, and its data
/// volume has room for checkpoints: above the floor, and no run waiting for room to save (a readiness probe).
/// <c>/health</c>: all of that and the runs: a failed training loop, a stopped evaluator or unreadable grain state make
/// it "degraded", one line each.
/// </summary>
public static class SiloHealth
{
    const string Ready = "ready";

    public static void AddSiloHealth(this IServiceCollection services) => services.AddHealthChecks()
        .AddCheck<StartedCheck>("silo", tags: [Ready])
        .AddCheck<DataVolumeCheck>("data volume", tags: [Ready])
        .AddCheck<RunsCheck>("runs");

    public static void MapSiloHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteText });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteText });
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteText });
    }

    /// <summary>"ok", or the overall status and one line per check that is not healthy.</summary>
    static Task WriteText(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        if (report.Status == HealthStatus.Healthy) return context.Response.WriteAsync("ok");
        var text = new StringBuilder(report.Status == HealthStatus.Degraded ? "degraded" : "unhealthy");
        foreach (var (name, entry) in report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy))
            text.Append('\n').Append($"{name}: {entry.Description}");
        return context.Response.WriteAsync(text.ToString());
    }

    sealed class StartedCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
            Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("stopping")
                : !lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Unhealthy("starting")
                : HealthCheckResult.Healthy());
    }

    sealed class DataVolumeCheck(StreamingMetrics metrics, IOptions<StreamingOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
        {
            var minimum = options.Value.MinFreeDataBytes;
            string[] problems =
            [
                .. metrics.DataFreeBytes is { } free && free < minimum
                    ? [$"{free / (1 << 20):N0} MiB free under {Path.GetFullPath(options.Value.DataDirectory)}, "
                        + $"below {minimum / (1 << 20):N0} MiB: checkpoints may not fit; free space or grow the volume"]
                    : Array.Empty<string>(),
                // A run that could not save proves the volume too full, whatever the floor says.
                .. metrics.Paused(),
            ];
            return Task.FromResult(problems.Length > 0 ? HealthCheckResult.Unhealthy(string.Join("; ", problems)) : HealthCheckResult.Healthy());
        }
    }

    sealed class RunsCheck(StreamingMetrics metrics) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken) =>
            Task.FromResult(metrics.Problems() is { Count: > 0 } problems
                ? HealthCheckResult.Degraded(string.Join("; ", problems))
                : HealthCheckResult.Healthy());
    }
}
