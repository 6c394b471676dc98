using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Training.Model;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Streaming.Training.Checkpoints;

/// <summary>
/// Weights in the Hugging Face GPT-2 layout, the format serving stacks and PyTorch read: a folder with
/// <c>model.safetensors</c> (names such as <c>transformer.h.0.attn.c_attn.weight</c>, GPT-2's Conv1D weights stored
/// as [in, out], the head tied to <c>transformer.wte.weight</c>) and <c>config.json</c> (GPT2LMHeadModel). Our
/// <see cref="Gpt"/> names its parameters the same way without the prefix, with linear weights as [out, in].
/// </summary>
public static class HuggingFaceGpt2
{
    public const string WeightsFile = "model.safetensors";
    public const string ConfigFile = "config.json";
    const string Prefix = "transformer.";

    /// <summary>GPT-2's Conv1D layers keep their weight as [in, out]: transposed against a linear layer's.</summary>
    static bool IsConv1D(string name) =>
        name.StartsWith("h.", StringComparison.Ordinal)
        && (name.EndsWith(".attn.c_attn.weight", StringComparison.Ordinal) || name.EndsWith(".attn.c_proj.weight", StringComparison.Ordinal)
            || name.EndsWith(".mlp.c_fc.weight", StringComparison.Ordinal) || name.EndsWith(".mlp.c_proj.weight", StringComparison.Ordinal));

    /// <summary>Keys a GPT-2 file may carry that are not weights of ours: the causal-mask buffers of older exports.</summary>
    static bool IsBuffer(string name) => name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    /// <summary>Exports the weights of a checkpoint or release (verified first) as <see cref="Export"/> does; returns the files
    /// written and the model they hold.</summary>
    public static (IReadOnlyList<string> Files, GptConfig Model) ExportCheckpoint(string checkpoint, string directory, IReadOnlyDictionary<string, JsonNode?> extra)
    {
        var (manifest, weights) = Checkpoint.ReadWeights(checkpoint);
        try
        {
            return (Export(weights, manifest.Model, directory, extra), manifest.Model);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Writes <paramref name="weights"/> (a <see cref="Gpt"/>'s parameters by name) into <paramref name="directory"/> as
    /// model.safetensors (fp32) and config.json; the padded embedding rows are dropped, so the file's vocabulary is the
    /// tokenizer's. <paramref name="extra"/> goes into config.json under "streaming" (tokenizer, run, release, step).
    /// Refuses a folder that already holds a model. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Export(IReadOnlyDictionary<string, Tensor> weights, GptConfig model, string directory, IReadOnlyDictionary<string, JsonNode?> extra)
    {
        var weightsPath = Path.Combine(directory, WeightsFile);
        var configPath = Path.Combine(directory, ConfigFile);
        if (File.Exists(weightsPath) || File.Exists(configPath))
            throw new CheckpointException($"'{directory}' already holds a model ({WeightsFile} or {ConfigFile}); choose another folder or remove them");
        Directory.CreateDirectory(directory);
        using var scope = torch.NewDisposeScope();
        var tensors = new List<(string Name, Tensor Tensor)>();
        foreach (var (name, tensor) in weights.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            var t = tensor.detach().to(ScalarType.Float32).cpu();
            if (name == "wte.weight") t = t.narrow(0, 0, model.Tokens);
            if (IsConv1D(name)) t = t.t();
            tensors.Add((Prefix + name, t.contiguous()));
        }
        WriteAtomically(weightsPath, stream => WriteSafetensors(stream, tensors));
        var config = ConfigJson(model);
        config["streaming"] = new JsonObject(extra.Select(e => KeyValuePair.Create(e.Key, e.Value?.DeepClone())));
        WriteAtomically(configPath, stream => stream.Write(Encoding.UTF8.GetBytes(config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")));
        return [weightsPath, configPath];
    }

    /// <summary>config.json of a GPT2LMHeadModel of this shape (the vocabulary is the tokenizer's, unpadded).</summary>
    static JsonObject ConfigJson(GptConfig model) => new()
    {
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["model_type"] = "gpt2",
        ["vocab_size"] = model.Tokens,
        ["n_positions"] = model.Context,
        ["n_ctx"] = model.Context,
        ["n_embd"] = model.Width,
        ["n_layer"] = model.Layers,
        ["n_head"] = model.Heads,
        ["n_inner"] = null,
        ["activation_function"] = model.TanhGelu ? "gelu_new" : "gelu",
        ["layer_norm_epsilon"] = 1e-5,
        ["resid_pdrop"] = 0.0,
        ["embd_pdrop"] = 0.0,
        ["attn_pdrop"] = 0.0,
        ["initializer_range"] = 0.02,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "float32",
    };

    /// <summary>
    /// The model a pretrained folder (or its model.safetensors) holds, read from its config.json: shape, activation and
    /// vocabulary (padded as <see cref="GptConfig.ForTokenizer"/> does). Throws <see cref="CheckpointException"/> with one line
    /// for a missing file or a config this model cannot take.
    /// </summary>
    public static GptConfig ReadConfig(string path)
    {
        var (_, configPath) = Files(path);
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"'{configPath}' is not readable JSON: {e.Message.Split('\n')[0]}");
        }
        int Int(string key, string? alias = null)
        {
            var node = config[key] ?? (alias is null ? null : config[alias]);
            try
            {
                return node?.GetValue<int>() ?? throw new CheckpointException($"'{configPath}' lacks \"{key}\"");
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new CheckpointException($"'{configPath}': \"{key}\" is not a whole number");
            }
        }
        var type = config["model_type"]?.ToString();
        if (type is not null && type != "gpt2") throw new CheckpointException($"'{configPath}' describes a {type} model; only GPT-2's layout (model_type gpt2) can be loaded");
        var width = Int("n_embd");
        if (config["n_inner"] is { } inner && inner.GetValueKind() != JsonValueKind.Null && inner.GetValue<int>() != 4 * width)
            throw new CheckpointException($"'{configPath}': an MLP width n_inner {inner} other than 4 x n_embd ({4 * width}) is not supported");
        if (config["layer_norm_epsilon"] is { } eps && Math.Abs(eps.GetValue<double>() - 1e-5) > 1e-12)
            throw new CheckpointException($"'{configPath}': layer_norm_epsilon {eps} is not GPT-2's 1e-5");
        if (config["tie_word_embeddings"] is { } tie && !tie.GetValue<bool>())
            throw new CheckpointException($"'{configPath}': an output head apart from the token embedding (tie_word_embeddings false) is not supported");
        var activation = config["activation_function"]?.ToString() ?? "gelu_new";
        var tanh = activation switch
        {
            "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => true,
            "gelu" => false,
            _ => throw new CheckpointException($"'{configPath}': activation_function '{activation}' is not supported (gelu_new or gelu)"),
        };
        var vocabulary = Int("vocab_size");
        try
        {
            return new GptConfig(Int("n_layer"), width, Int("n_head"), Int("n_positions", "n_ctx"), vocabulary).ForTokenizer(vocabulary) with { TanhGelu = tanh };
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"'{configPath}': {e.Message}");
        }
    }

    /// <summary>
    /// The weights of a pretrained folder for <paramref name="model"/>, named as <see cref="Gpt"/>'s parameters, on the CPU
    /// in fp32: the embedding padded with zero rows up to the model's vocabulary, the positions cut to its context (a
    /// shorter context than the file's is allowed). Every weight must be there with its shape; anything else is refused
    /// with one line. The caller disposes the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> ReadWeights(string path, GptConfig model)
    {
        var (weightsPath, _) = Files(path);
        var expected = ExpectedShapes(model);
        Dictionary<string, Tensor> file;
        try
        {
            file = Safetensors.LoadStateDict(weightsPath);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointException($"'{weightsPath}' is not a readable safetensors file: {e.Message.Split('\n')[0]}");
        }
        var result = new Dictionary<string, Tensor>();
        try
        {
            Tensor? head = null;
            foreach (var (key, tensor) in file)
            {
                var name = key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..] : key;
                if (IsBuffer(name)) continue;
                if (name == "lm_head.weight") { head = tensor; continue; }
                if (!expected.TryGetValue(name, out var shape))
                    throw new CheckpointException($"'{weightsPath}' holds '{key}', which a GPT-2 of {model.Layers} layers has no place for");
                using var fp32 = tensor.to(ScalarType.Float32);
                var t = IsConv1D(name) ? fp32.t() : fp32.alias();
                if (name == "wte.weight") t = Resize(t, model.Vocabulary, model.Tokens, "vocabulary", key, weightsPath);
                else if (name == "wpe.weight") t = Resize(t, model.Context, null, "context", key, weightsPath);
                if (!t.shape.SequenceEqual(shape))
                    throw new CheckpointException($"'{weightsPath}': '{key}' is [{string.Join(", ", tensor.shape)}], the model {model} needs [{string.Join(", ", IsConv1D(name) ? shape.Reverse() : shape)}]");
                result[name] = t.contiguous();
                t.Dispose();
            }
            if (expected.Keys.FirstOrDefault(n => !result.ContainsKey(n)) is { } missing)
                throw new CheckpointException($"'{weightsPath}' lacks '{Prefix}{missing}'");
            if (head is not null)
            {
                using var wte = result["wte.weight"].narrow(0, 0, model.Tokens);
                using var head32 = head.to(ScalarType.Float32);
                if (!head32.shape.SequenceEqual(wte.shape) || !head32.allclose(wte, rtol: 0, atol: 0))
                    throw new CheckpointException($"'{weightsPath}': lm_head.weight differs from the token embedding; this model ties its head to it");
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in file.Values) t.Dispose();
        }
    }

    /// <summary>The file's rows of an embedding made <paramref name="rows"/> long: cut, or padded with zero rows beyond
    /// <paramref name="exactRows"/> (the vocabulary must match exactly, a context may be cut).</summary>
    static Tensor Resize(Tensor t, int rows, int? exactRows, string what, string key, string path)
    {
        var have = t.shape[0];
        if (exactRows is { } exact ? have != exact : have < rows)
            throw new CheckpointException($"'{path}': '{key}' has a {what} of {have}, the run needs {exactRows ?? rows}" + (exactRows is null ? " at most" : " (the tokenizer's ids)"));
        if (have >= rows) return t.narrow(0, 0, rows);
        using var padding = torch.zeros(rows - have, t.shape[1], ScalarType.Float32);
        return torch.cat([t, padding], 0);
    }

    static Dictionary<string, long[]> ExpectedShapes(GptConfig m)
    {
        long c = m.Width;
        var shapes = new Dictionary<string, long[]>
        {
            ["wte.weight"] = [m.Vocabulary, c], ["wpe.weight"] = [m.Context, c], ["ln_f.weight"] = [c], ["ln_f.bias"] = [c],
        };
        for (var i = 0; i < m.Layers; i++)
        {
            var h = $"h.{i}.";
            shapes[h + "ln_1.weight"] = [c]; shapes[h + "ln_1.bias"] = [c];
            shapes[h + "ln_2.weight"] = [c]; shapes[h + "ln_2.bias"] = [c];
            shapes[h + "attn.c_attn.weight"] = [3 * c, c]; shapes[h + "attn.c_attn.bias"] = [3 * c];
            shapes[h + "attn.c_proj.weight"] = [c, c]; shapes[h + "attn.c_proj.bias"] = [c];
            shapes[h + "mlp.c_fc.weight"] = [4 * c, c]; shapes[h + "mlp.c_fc.bias"] = [4 * c];
            shapes[h + "mlp.c_proj.weight"] = [c, 4 * c]; shapes[h + "mlp.c_proj.bias"] = [c];
        }
        return shapes;
    }

    /// <summary>Where model.safetensors and config.json of a folder are, or of the folder a model.safetensors lies in (they
    /// may not exist).</summary>
    public static (string Weights, string Config) PathsOf(string path)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        return (Directory.Exists(path) ? Path.Combine(path, WeightsFile) : path, Path.Combine(folder, ConfigFile));
    }

    /// <summary>model.safetensors and config.json of a folder, or of the folder a model.safetensors lies in.</summary>
    static (string Weights, string Config) Files(string path)
    {
        var (weights, config) = PathsOf(path);
        if (!File.Exists(weights)) throw new CheckpointException($"no {WeightsFile} at '{path}' (give a folder with {WeightsFile} and {ConfigFile}, or the file)");
        if (!File.Exists(config)) throw new CheckpointException($"no {ConfigFile} beside '{weights}' (the model's shape is read from it)");
        return (weights, config);
    }

    /// <summary>
    /// safetensors: an 8-byte little-endian header length, the JSON header, the raw tensors. Written here rather than by
    /// TorchSharp.PyBridge (which reads them) because its writer leaves out the "__metadata__": {"format": "pt"} entry
    /// that transformers' from_pretrained requires.
    /// </summary>
    static void WriteSafetensors(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            var bytes = t.NumberOfElements * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;   // keeps the tensors 8-byte aligned, as the reference writer does
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write((ulong)padded);
        writer.Write(json);
        for (var i = json.Length; i < padded; i++) writer.Write((byte)' ');
        foreach (var (_, t) in tensors) writer.Write(t.bytes);
    }

    /// <summary>Writes a file under a temporary name, flushed to disk, then renames it into place.</summary>
    static void WriteAtomically(string path, Action<Stream> write)
    {
        var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
