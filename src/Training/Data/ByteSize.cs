using System.Globalization;

namespace Streaming.Training.Data;

/// <summary>Byte counts for people, in binary units: "512 B", "16 MiB", "1.5 GiB".</summary>
public static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Format(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // Whole numbers print without decimals, so the 16 MiB document limit reads "16 MiB", not "16.0 MiB".
        var text = unit == 0 || value == Math.Floor(value) ? value.ToString("0", CultureInfo.CurrentCulture) : value.ToString("0.#", CultureInfo.CurrentCulture);
        return $"{text} {Units[unit]}";
    }
}
