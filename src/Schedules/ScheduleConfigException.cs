namespace Streaming.Schedules;

/// <summary>
/// A schedule config that breaks a rule, or a saved state that cannot resume under a changed config.
/// The message is one line that names the field (by its command-line spelling) and the rule, e.g.
/// "--const-lr: must not exceed --max-lr (1.65e-4 > 1e-4)", so that callers can print it as it is.
/// </summary>
public sealed class ScheduleConfigException : Exception
{
    public ScheduleConfigException(string field, string rule)
        : base($"--{field}: {rule}")
    {
        Field = field;
    }

    /// <summary>A problem that is not one field's (e.g. an unreadable saved state); still one line.</summary>
    public ScheduleConfigException(string message)
        : base(message)
    {
        Field = "";
    }

    /// <summary>The field at fault, spelled as its command-line option without the dashes (e.g. "const-lr").</summary>
    public string Field { get; }
}
