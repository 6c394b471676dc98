using System.Text.Json;
using System.Text.RegularExpressions;

namespace Streaming.Training.Checkpoints;

/// <summary>
/// Named JSON documents that other components save with a checkpoint (e.g. "schedule", "cursors",
/// "sampler"), each as its own file parts/NAME.json covered by the manifest's hashes.
/// </summary>
public sealed partial class CheckpointParts
{
    readonly SortedDictionary<string, byte[]> parts = new(StringComparer.Ordinal);

    /// <summary>The part names, sorted.</summary>
    public IEnumerable<string> Names => parts.Keys;

    /// <summary>Whether a part of that name is present.</summary>
    public bool Contains(string name) => parts.ContainsKey(name);

    /// <summary>Stores <paramref name="value"/> serialized with System.Text.Json (web defaults) under <paramref name="name"/>.</summary>
    public CheckpointParts Set<T>(string name, T value) =>
        SetJson(name, JsonSerializer.SerializeToUtf8Bytes(value, CheckpointManifest.Json));

    /// <summary>Stores a UTF-8 JSON document as is.</summary>
    public CheckpointParts SetJson(string name, ReadOnlySpan<byte> utf8Json)
    {
        CheckName(name);
        try { using var _ = JsonDocument.Parse(utf8Json.ToArray()); }
        catch (JsonException e) { throw new ArgumentException($"checkpoint part '{name}' is not valid JSON: {e.Message}"); }
        parts[name] = utf8Json.ToArray();
        return this;
    }

    /// <summary>The part deserialized as <typeparamref name="T"/>; a <see cref="CheckpointException"/> if it is absent or does not fit.</summary>
    public T Get<T>(string name)
    {
        if (!parts.TryGetValue(name, out var bytes))
            throw new CheckpointException($"checkpoint has no part '{name}' (it has: {string.Join(", ", parts.Keys.DefaultIfEmpty("none"))})");
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, CheckpointManifest.Json)
                ?? throw new CheckpointException($"checkpoint part '{name}' is null");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"checkpoint part '{name}' does not read as {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>The part's raw UTF-8 JSON.</summary>
    public ReadOnlyMemory<byte> GetJson(string name) =>
        parts.TryGetValue(name, out var bytes) ? bytes : throw new CheckpointException($"checkpoint has no part '{name}'");

    internal static void CheckName(string name)
    {
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"checkpoint part name '{name}' must match [a-z0-9][a-z0-9_.-]{{0,63}}");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,63}$")]
    private static partial Regex NamePattern();
}
