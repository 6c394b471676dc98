using System.Globalization;

namespace Streaming.Schedules;

/// <summary>How schedule messages print numbers: small rates in the e-notation people type (1.65e-4).</summary>
public static class NumberText
{
    public static string Format(double value)
    {
        if (double.IsFinite(value) && value != 0 && (Math.Abs(value) < 1e-3 || Math.Abs(value) >= 1e7))
            return value.ToString("0.###############e-0", CultureInfo.InvariantCulture);
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}
