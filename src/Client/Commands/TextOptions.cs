using System.CommandLine;
using System.Globalization;
using Streaming.Schedules;

namespace Streaming.Client.Commands;

/// <summary>
/// Options read as text and parsed here, so that a bad number is our one-line error (a
/// <see cref="ScheduleConfigException"/> naming the flag) and not System.CommandLine's multi-line report with
/// help; ZeroOrMore lets a flag with no value, or given twice, reach us too.
/// </summary>
public static class TextOptions
{
    public static Option<string[]> Create(string name, string description, string? defaultValue)
    {
        var option = new Option<string[]>(name) { Description = description, Arity = ArgumentArity.ZeroOrMore, HelpName = "value" };
        if (defaultValue is not null) option.DefaultValueFactory = _ => [defaultValue];
        return option;
    }

    /// <summary>The option's text, or null when neither given nor defaulted. Given without a value, or
    /// more than once, is an error.</summary>
    public static string? Text(ParseResult parse, Option<string[]> option)
    {
        var field = option.Name.TrimStart('-');
        if (parse.GetResult(option) is { Implicit: false } given)
        {
            if (given.Tokens.Count == 0) throw new ScheduleConfigException(field, "needs a value");
            if (given.Tokens.Count > 1) throw new ScheduleConfigException(field, "given more than once");
        }
        var values = parse.GetValue(option);
        return values is { Length: > 0 } ? values[0] : null;
    }

    public static double Number(ParseResult parse, Option<string[]> option)
    {
        var text = Text(parse, option)!;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new ScheduleConfigException(option.Name.TrimStart('-'), $"not a number ('{text}')");
        return v;
    }

    /// <summary><see cref="Number"/>, or null when neither given nor defaulted.</summary>
    public static double? OptionalNumber(ParseResult parse, Option<string[]> option) =>
        Text(parse, option) is null ? null : Number(parse, option);

    public static long? Count(ParseResult parse, Option<string[]> option)
    {
        if (Text(parse, option) is not { } text) return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new ScheduleConfigException(option.Name.TrimStart('-'), $"not a whole number of steps ('{text}')");
        return v;
    }

    /// <summary><see cref="Count"/> for settings held in an int: a value out of its range is an error, not wrapped.</summary>
    public static int? SmallCount(ParseResult parse, Option<string[]> option)
    {
        if (Count(parse, option) is not { } v) return null;
        if (v is < int.MinValue or > int.MaxValue)
            throw new ScheduleConfigException(option.Name.TrimStart('-'), $"out of range ({v})");
        return (int)v;
    }
}
