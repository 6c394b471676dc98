using System.CommandLine;
using System.Globalization;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// The options that set a schedule's rates and phase lengths, the same on `schedule`, `run create` and `compare`.
/// `schedule` plans on its own and shows <see cref="ScheduleConfig"/>'s defaults; the others leave an unset one
/// to the silo, except `compare`, which derives unset phase lengths from its stream (<paramref name="lengthsDefault"/>).
/// </summary>
public sealed class RateOptions
{
    private readonly Option<string[]> maxLr, constLr, minLr, warmup, cooldown;

    public RateOptions(bool showDefaults, string? lengthsDefault = null)
    {
        string? Default(double value) => showDefaults ? value.ToString("0.##########", CultureInfo.InvariantCulture) : null;
        var silo = showDefaults ? "" : " [default: the silo's]";
        maxLr = TextOptions.Create("--max-lr", "Peak learning rate" + silo, Default(ScheduleConfig.DefaultMaxLr));
        constLr = TextOptions.Create("--const-lr", "Constant learning rate after the cooldown (infinite, constant)" + silo, Default(ScheduleConfig.DefaultConstLr));
        minLr = TextOptions.Create("--min-lr", "Final learning rate of decays and anneal branches" + silo, Default(ScheduleConfig.DefaultMinLr));
        var lengths = lengthsDefault is null ? silo : $" [default: {lengthsDefault}]";
        warmup = TextOptions.Create("--warmup", "Linear warmup steps (repeated-cosine: on every task)" + lengths, Default(ScheduleConfig.DefaultWarmupSteps));
        cooldown = TextOptions.Create("--cooldown", "Infinite: cooldown steps from max to const after the warmup" + lengths, Default(ScheduleConfig.DefaultCooldownSteps));
    }

    public IEnumerable<Option> All => [maxLr, constLr, minLr, warmup, cooldown];

    public double? MaxLr(ParseResult parse) => TextOptions.OptionalNumber(parse, maxLr);
    public double? ConstLr(ParseResult parse) => TextOptions.OptionalNumber(parse, constLr);
    public double? MinLr(ParseResult parse) => TextOptions.OptionalNumber(parse, minLr);
    public long? WarmupSteps(ParseResult parse) => TextOptions.Count(parse, warmup);
    public long? CooldownSteps(ParseResult parse) => TextOptions.Count(parse, cooldown);
}
