using Streaming.Training.Native;
using System.Runtime.InteropServices;
using System.Text.Json;
using Streaming.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Checkpoints;

/// <summary>A checkpoint read back: its manifest, tensors (on the requested device) and JSON parts. Dispose frees the tensors.</summary>
public sealed class LoadedCheckpoint : IDisposable
{
    internal LoadedCheckpoint(CheckpointManifest manifest, Dictionary<string, Tensor> model, Dictionary<string, Tensor> optimizer,
        Dictionary<string, Tensor> average, CheckpointParts parts)
        => (Manifest, Model, Optimizer, Average, Parts) = (manifest, model, optimizer, average, parts);

    /// <summary>The verified manifest.</summary>
    public CheckpointManifest Manifest { get; }
    /// <summary>Model weights by parameter name (fp32 master values).</summary>
    public IReadOnlyDictionary<string, Tensor> Model { get; }
    /// <summary>Optimizer tensors by name (empty if none were saved).</summary>
    public IReadOnlyDictionary<string, Tensor> Optimizer { get; }
    /// <summary>The weight average's tensors (empty if the run kept none, or the checkpoint is from before averaging).</summary>
    public IReadOnlyDictionary<string, Tensor> Average { get; }
    /// <summary>The callers' JSON parts.</summary>
    public CheckpointParts Parts { get; }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Model.Values.Concat(Optimizer.Values).Concat(Average.Values)) t.Dispose();
    }
}

/// <summary>
/// Checkpoint directories: model.tensors, optimizer.tensors, average.tensors (a run that keeps a weight average), parts/NAME.json and manifest.json (format
/// version, model config, step, SHA-256 of every other file). Written atomically: everything goes into
/// a sibling DIR.tmp-GUID, each file and folder is fsynced, then the folder is renamed to DIR. A crash
/// leaves either no DIR or a complete one (plus a .tmp- folder that <see cref="RemoveTemporaries"/> clears).
/// </summary>
public static class Checkpoint
{
    /// <summary>The manifest's file name.</summary>
    public const string ManifestFile = "manifest.json";
    /// <summary>The model weights' file name.</summary>
    public const string ModelFile = "model.tensors";
    /// <summary>The optimizer state's file name.</summary>
    public const string OptimizerFile = "optimizer.tensors";
    /// <summary>The weight average's file name.</summary>
    public const string AverageFile = "average.tensors";
    /// <summary>The folder of the JSON parts.</summary>
    public const string PartsFolder = "parts";

    /// <summary>
    /// Writes a checkpoint to <paramref name="directory"/> atomically. An existing directory is an error
    /// unless <paramref name="overwrite"/>, in which case it is replaced after the new one is complete.
    /// </summary>
    public static CheckpointManifest Save(string directory, GptConfig model, long step,
        IReadOnlyDictionary<string, Tensor> modelTensors, IReadOnlyDictionary<string, Tensor>? optimizerTensors = null,
        CheckpointParts? parts = null, bool overwrite = false, IReadOnlyDictionary<string, Tensor>? averageTensors = null)
    {
        var final = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(final) ?? throw new CheckpointException($"checkpoint directory '{directory}' has no parent folder");
        if (Directory.Exists(final) && !overwrite)
            throw new CheckpointException($"checkpoint directory '{final}' already exists");
        var temporary = $"{final}.tmp-{Guid.NewGuid():N}";
        try
        {
            Directory.CreateDirectory(parent);
            Directory.CreateDirectory(temporary);
            var files = new SortedDictionary<string, CheckpointFile>(StringComparer.Ordinal)
            {
                [ModelFile] = TensorFile.Write(Path.Combine(temporary, ModelFile), modelTensors),
            };
            if (optimizerTensors is not null)
                files[OptimizerFile] = TensorFile.Write(Path.Combine(temporary, OptimizerFile), optimizerTensors);
            if (averageTensors is not null)
                files[AverageFile] = TensorFile.Write(Path.Combine(temporary, AverageFile), averageTensors);
            var partNames = parts?.Names.ToList() ?? [];
            if (partNames.Count > 0)
            {
                var folder = Directory.CreateDirectory(Path.Combine(temporary, PartsFolder)).FullName;
                foreach (var name in partNames)
                    files[$"{PartsFolder}/{name}.json"] = WriteFile(Path.Combine(folder, name + ".json"), parts!.GetJson(name).Span);
                LibC.SyncDirectory(folder);
            }
            var manifest = new CheckpointManifest
            {
                FormatVersion = CheckpointManifest.CurrentFormatVersion,
                Model = model,
                Step = step,
                CreatedUtc = DateTimeOffset.UtcNow,
                Parts = partNames,
                Files = files,
            };
            WriteFile(Path.Combine(temporary, ManifestFile), JsonSerializer.SerializeToUtf8Bytes(manifest, CheckpointManifest.Json));
            LibC.SyncDirectory(temporary);

            if (Directory.Exists(final))
            {
                var old = $"{final}.old-{Guid.NewGuid():N}";
                Directory.Move(final, old);
                Directory.Move(temporary, final);
                LibC.SyncDirectory(parent);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(temporary, final);
                LibC.SyncDirectory(parent);
            }
            return manifest;
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            TryDelete(temporary);
            throw new CheckpointException($"cannot write checkpoint '{final}': {e.Message}", e);
        }
    }

    /// <summary>Reads and parses the manifest (no hashing); refuses unknown format versions.</summary>
    public static CheckpointManifest ReadManifest(string directory)
    {
        var path = Path.Combine(directory, ManifestFile);
        if (!Directory.Exists(directory)) throw new CheckpointException($"checkpoint directory '{directory}' does not exist");
        if (!File.Exists(path)) throw new CheckpointException($"'{directory}' is not a checkpoint: {ManifestFile} is missing");
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllBytes(path), CheckpointManifest.Json); }
        catch (JsonException e) { throw new CheckpointException($"checkpoint '{directory}': {ManifestFile} is corrupt ({e.Message})", e); }
        if (manifest is null) throw new CheckpointException($"checkpoint '{directory}': {ManifestFile} is empty");
        if (manifest.FormatVersion != CheckpointManifest.CurrentFormatVersion)
            throw new CheckpointException($"checkpoint '{directory}' has format version {manifest.FormatVersion}; this build reads version {CheckpointManifest.CurrentFormatVersion}");
        return manifest;
    }

    /// <summary>Checks every file named by the manifest against its length and SHA-256; returns the manifest.</summary>
    public static CheckpointManifest Verify(string directory)
    {
        var manifest = ReadManifest(directory);
        foreach (var (name, expected) in manifest.Files)
        {
            var path = Path.Combine(directory, name.Replace('/', Path.DirectorySeparatorChar));
            if (!File.Exists(path)) throw new CheckpointException($"checkpoint '{directory}' is incomplete: {name} is missing");
            var actual = TensorFile.Hash(path);
            if (actual.Bytes != expected.Bytes)
                throw new CheckpointException($"checkpoint '{directory}': {name} is {actual.Bytes} bytes, the manifest says {expected.Bytes} (truncated or overwritten)");
            if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointException($"checkpoint '{directory}': {name} is corrupt (SHA-256 {actual.Sha256[..12]}..., the manifest says {expected.Sha256[..Math.Min(12, expected.Sha256.Length)]}...)");
        }
        return manifest;
    }

    /// <summary>
    /// Verifies and reads a checkpoint onto <paramref name="device"/> (CPU by default). Refuses a checkpoint
    /// written for another model shape than <paramref name="expectedModel"/>.
    /// </summary>
    public static LoadedCheckpoint Load(string directory, GptConfig expectedModel, Device? device = null)
    {
        RequireModel(directory, expectedModel);
        var manifest = Verify(directory);
        device ??= torch.CPU;
        Dictionary<string, Tensor>? model = null, optimizer = null;
        try
        {
            model = ReadTensors(directory, ModelFile, device);
            optimizer = manifest.Files.ContainsKey(OptimizerFile) ? ReadTensors(directory, OptimizerFile, device) : [];
            var average = manifest.Files.ContainsKey(AverageFile) ? ReadTensors(directory, AverageFile, device) : [];
            var parts = new CheckpointParts();
            foreach (var name in manifest.Parts)
                parts.SetJson(name, File.ReadAllBytes(Path.Combine(directory, PartsFolder, name + ".json")));
            return new LoadedCheckpoint(manifest, model, optimizer, average, parts);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            foreach (var t in new[] { model, optimizer }.SelectMany(d => d?.Values ?? Enumerable.Empty<Tensor>())) t.Dispose();
            throw new CheckpointException($"cannot read checkpoint '{directory}': {e.Message}", e);
        }
    }

    /// <summary>One part of a checkpoint, checked against the manifest's hash, without reading any tensor
    /// (e.g. the training loop's state, whose cursors say how far the checkpoint has trained).</summary>
    public static T ReadPart<T>(string directory, string name)
    {
        var manifest = ReadManifest(directory);
        var file = $"{PartsFolder}/{name}.json";
        if (!manifest.Files.TryGetValue(file, out var expected))
            throw new CheckpointException($"checkpoint '{directory}' has no part '{name}'");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(Path.Combine(directory, PartsFolder, name + ".json")); }
        catch (IOException e) { throw new CheckpointException($"checkpoint '{directory}': {file} is unreadable ({e.Message})", e); }
        if (bytes.Length != expected.Bytes || !string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), expected.Sha256, StringComparison.OrdinalIgnoreCase))
            throw new CheckpointException($"checkpoint '{directory}': {file} does not match its manifest (truncated or corrupt)");
        return new CheckpointParts().SetJson(name, bytes).Get<T>(name);
    }

    /// <summary>Refuses, before reading any tensor, a checkpoint written for another model shape.</summary>
    static void RequireModel(string directory, GptConfig expected)
    {
        var found = ReadManifest(directory).Model;
        if (found != expected)
            throw new CheckpointException($"checkpoint '{directory}' holds a model {found}, not the configured {expected}; refusing to load it");
    }

    /// <summary>Verifies a checkpoint and reads only its weights (fp32, on the CPU), not the optimizer's state; the caller
    /// disposes them.</summary>
    public static (CheckpointManifest Manifest, Dictionary<string, Tensor> Weights) ReadWeights(string directory)
    {
        var manifest = Verify(directory);
        try
        {
            return (manifest, ReadTensors(directory, ModelFile, torch.CPU));
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"cannot read checkpoint '{directory}': {e.Message}", e);
        }
    }

    /// <summary>Loads only the weights of a checkpoint into <paramref name="model"/> (e.g. for an evaluator); returns the manifest.</summary>
    public static CheckpointManifest LoadWeights(string directory, Gpt model)
    {
        RequireModel(directory, model.Config);
        var (manifest, weights) = ReadWeights(directory);
        try
        {
            using var _ = torch.no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (!weights.TryGetValue(name, out var src)) throw new CheckpointException($"checkpoint '{directory}' lacks weight '{name}'");
                p.copy_(src);
            }
            return manifest;
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Deletes the DIR.tmp-* (half-written) folders that interrupted saves left in <paramref name="parent"/>, and the
    /// DIR.old-* (replaced) ones whose DIR is in place; returns how many.</summary>
    public static int RemoveTemporaries(string parent)
    {
        if (!Directory.Exists(parent)) return 0;
        var removed = 0;
        var replaced = Directory.EnumerateDirectories(parent, "*.old-*").Where(old => Directory.Exists(old[..old.LastIndexOf(".old-", StringComparison.Ordinal)]));
        foreach (var folder in Directory.EnumerateDirectories(parent, "*.tmp-*").Concat(replaced).ToList())
            if (TryDelete(folder)) removed++;
        return removed;
    }

    static Dictionary<string, Tensor> ReadTensors(string directory, string file, Device device)
    {
        try { return TensorFile.Read(Path.Combine(directory, file), device); }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException)
        {
            throw new CheckpointException($"checkpoint '{directory}': {file} is unreadable ({e.Message})", e);
        }
    }

    static CheckpointFile WriteFile(string path, ReadOnlySpan<byte> bytes)
    {
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        return new CheckpointFile(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.Length);
    }

    static bool TryDelete(string folder)
    {
        try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
