using Streaming.Training;
using System.Collections;
using System.CommandLine;
using System.Globalization;

namespace Streaming.Silo;

/// <summary>
/// The silo's settings from outside its command line: the <c>Streaming</c> section of <c>appsettings.json</c> in the
/// directory the silo starts in, then <c>STREAMING_*</c> environment variables. Every key is a flag's name:
/// <c>"checkpoint-every": 200</c> in the file (case, dashes and underscores do not matter, so <c>CheckpointEvery</c>
/// works too), <c>STREAMING_CHECKPOINT_EVERY=200</c> in the environment. A flag on the command line wins over the
/// environment, the environment over the file, the file over the built-in default (<see cref="SiloSettings"/>).
/// </summary>
public sealed class ConfiguredDefaults
{
    public const string FileName = "appsettings.json", Section = "Streaming", EnvironmentPrefix = "STREAMING_";

    /// <summary>Value and where it came from (for error lines), by normalized flag name.</summary>
    readonly Dictionary<string, (string Value, string Source)> values = [];
    readonly Dictionary<string, string> fileKeys = [];
    string file = FileName;

    /// <summary>Reads the file in <paramref name="directory"/> (when there is one) and the environment; a file that is
    /// not JSON, or whose section is not a flat object, throws <see cref="ArgumentException"/> with one line.</summary>
    public static ConfiguredDefaults Load(string directory, IDictionary environment)
    {
        var configured = new ConfiguredDefaults();
        var file = configured.file = Path.Combine(directory, FileName);
        if (File.Exists(file))
        {
            IConfigurationRoot root;
            try
            {
                root = new ConfigurationBuilder().AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false).Build();
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
            {
                throw new ArgumentException($"{file} is not valid JSON: {ExceptionText.FirstLine(ExceptionText.Innermost(e).Message)}");
            }
            foreach (var entry in root.GetSection(Section).GetChildren())
            {
                if (entry.Value is null)
                    throw new ArgumentException($"{file}: \"{Section}\": \"{entry.Key}\" must be a single value, not an object or a list");
                configured.values[Normalize(entry.Key)] = (entry.Value, $"{file} ({Section}:{entry.Key})");
                configured.fileKeys[Normalize(entry.Key)] = entry.Key;
            }
        }
        foreach (DictionaryEntry variable in environment)
            if (variable.Key is string name && name.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && variable.Value is string value)
                configured.values[Normalize(name[EnvironmentPrefix.Length..])] = (value, name);
        return configured;
    }

    /// <summary>Whether the file or the environment sets this flag.</summary>
    public bool Sets(Option option) => values.ContainsKey(Normalize(option.Name));

    /// <summary>Makes the configured value, when there is one, the option's default (so --help shows it too); a value
    /// that is not of the option's type throws <see cref="ArgumentException"/> naming where it was set.</summary>
    public void Apply<T>(Option<T> option)
    {
        if (!values.TryGetValue(Normalize(option.Name), out var configured)) return;
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        T value;
        try
        {
            value = (T)Convert.ChangeType(configured.Value.Trim(), type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            throw new ArgumentException($"{configured.Source} = '{configured.Value}' is not a valid value for {option.Name} (a {TypeName(type)})");
        }
        option.DefaultValueFactory = _ => value;
    }

    /// <summary>A key in the file that names no flag is a typo that would otherwise be ignored: refused. (Unknown
    /// STREAMING_* variables are not: other programs, the client among them, read that prefix too.)</summary>
    public void RejectUnknownFileKeys(IEnumerable<Option> options)
    {
        var known = options.Select(o => Normalize(o.Name)).ToHashSet();
        if (fileKeys.FirstOrDefault(k => !known.Contains(k.Key)) is { Value: { } unknown })
            throw new ArgumentException($"{file}: unknown setting \"{Section}\": \"{unknown}\"; the settings are the silo's flags: "
                + string.Join(", ", options.Select(o => o.Name.TrimStart('-')).Order()));
    }

    static string Normalize(string name) => new([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);

    static string TypeName(Type type) => type == typeof(int) ? "whole number" : type == typeof(double) ? "number" : type.Name.ToLowerInvariant();
}
