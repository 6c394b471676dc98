using System.Text.Json;
using System.Text.Json.Serialization;

namespace Streaming.Schedules;

/// <summary>Enums as kebab-case strings in JSON ("paper-protocol"), readable in checkpoints.</summary>
public sealed class KebabCaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.KebabCaseLower)
    where T : struct, Enum;

/// <summary>An enum's value as the kebab-case string it has in JSON (<see cref="KebabCaseEnumConverter{T}"/>), for
/// the places that keep strings: grain interfaces and their persisted state, metric labels, file names.</summary>
public static class KebabCase
{
    /// <summary>The value's string ("paper-protocol" for PaperProtocol), the same that JSON holds.</summary>
    public static string ToWire<T>(this T value) where T : struct, Enum =>
        JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>The value whose string is <paramref name="wire"/>; throws <see cref="FormatException"/> if none is.</summary>
    public static T Parse<T>(string wire) where T : struct, Enum =>
        Enum.GetValues<T>().Select(v => (T?)v).FirstOrDefault(v => v!.Value.ToWire() == wire)
        ?? throw new FormatException($"'{wire}' is not one of {string.Join(", ", Enum.GetValues<T>().Select(v => v.ToWire()))}");
}
