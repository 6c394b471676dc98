using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Streaming.Training.Engine;
using Streaming.Training.Model;
using Streaming.Training.Native;
using Streaming.Training.Optim;
using TorchSharp;
using static TorchSharp.torch;

// Streaming.Bench: trains the same GPT with the same batch and AdamW settings for N steps in this project
// (ModelTrainer: flat-buffer AdamW, fp32 master, bf16 compute on CUDA) and in PyTorch (bench/reference.py),
// then prints tokens/s of both, their ratio and model FLOPs utilisation against a matmul peak measured here.

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
Bench.Options o;
try { o = Bench.Options.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
if (o.Help) { Console.WriteLine(Bench.Options.Usage); return 0; }
try { return Bench.Run(o); }
catch (Exception e) when (e is ArgumentException or TorchLoadException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message.Split('\n')[0]}");
    return 1;
}

static class Bench
{
    public sealed record Options
    {
        public string Mode = "cpu";
        public GptConfig Model = GptConfig.Tiny;
        public int Batch = 8, Seq, Steps = 20, Warmup = 3, Threads = 1, MicroBatches = 1;
        public string? LibTorch, Reference, Python = "python3", Json;
        public bool SkipReference, Help;
        public double? AverageDecay;
        public string[] Precisions = [];

        public const string Usage = """
            Streaming.Bench: tokens/s and MFU of ModelTrainer vs PyTorch (bench/reference.py).

              --mode cpu|cuda          cpu: tiny model on the CPU (default); cuda: needs a CUDA libtorch
              --config tiny|gpt2-small|gpt2-medium  model preset (default tiny on cpu, gpt2-small on cuda)
              --layers/--width/--heads/--context/--vocab N   override the preset
              --batch B --seq T        batch and sequence length (default 8 x context on cpu, 16 x 1024 on cuda)
              --steps N --warmup W     timed steps and untimed warm-up steps (default 20 and 3)
              --micro-batches K        gradient accumulation (default 1)
              --threads N              libtorch intra-op threads on cpu (default 1)
              --libtorch DIR           external libtorch (e.g. a pip PyTorch's torch/lib); also STREAMING_LIBTORCH
              --python EXE             interpreter for the reference (default python3)
              --reference FILE         reference script (default: reference.py next to the app or in ./bench)
              --precisions LIST        reference precisions, comma-separated (default fp32 on cpu, autocast,bf16 on cuda);
                                       PRECISION+compile also wraps the model in torch.compile (e.g. autocast+compile)
              --no-reference           time this project only
              --json FILE              also write the results as JSON (for scripts such as bench/gpu/run.sh)
              --average-decay D        also time steps with a weight average of decay D beside the same steps without
                                       (alternating rounds), the average's update alone, and its memory
            """;

        public static Options Parse(string[] args)
        {
            var o = new Options();
            int? layers = null, width = null, heads = null, context = null, vocab = null, batch = null;
            string? config = null;
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Int() { var a = args[i]; var v = Value(); return int.TryParse(v, out var n) && n > 0 ? n : throw new ArgumentException($"{a} needs a positive integer, not '{v}'"); }
                switch (args[i])
                {
                    case "--help" or "-h": o.Help = true; break;
                    case "--mode": o.Mode = Value().ToLowerInvariant(); break;
                    case "--config": config = Value().ToLowerInvariant(); break;
                    case "--layers": layers = Int(); break;
                    case "--width": width = Int(); break;
                    case "--heads": heads = Int(); break;
                    case "--context": context = Int(); break;
                    case "--vocab": vocab = Int(); break;
                    case "--batch": batch = Int(); break;
                    case "--seq": o.Seq = Int(); break;
                    case "--steps": o.Steps = Int(); break;
                    case "--warmup": o.Warmup = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--threads": o.Threads = Int(); break;
                    case "--micro-batches": o.MicroBatches = Int(); break;
                    case "--libtorch": o.LibTorch = Value(); break;
                    case "--python": o.Python = Value(); break;
                    case "--reference": o.Reference = Value(); break;
                    case "--precisions": o.Precisions = Value().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                    case "--no-reference": o.SkipReference = true; break;
                    case "--json": o.Json = Value(); break;
                    case "--average-decay":
                        var d = Value();
                        o.AverageDecay = double.TryParse(d, CultureInfo.InvariantCulture, out var decay) && decay is > 0 and < 1 ? decay
                            : throw new ArgumentException($"--average-decay needs a number in (0, 1), not '{d}'");
                        break;
                    default: throw new ArgumentException($"unknown option '{args[i]}' (see --help)");
                }
            }
            if (o.Mode is not ("cpu" or "cuda")) throw new ArgumentException($"--mode must be cpu or cuda, not '{o.Mode}'");
            var gpu = o.Mode == "cuda";
            var name = config ?? (gpu ? "gpt2-small" : "tiny");
            var preset = GptConfig.Presets.TryGetValue(name, out var found)
                ? found
                : throw new ArgumentException($"--config must be one of {string.Join(", ", GptConfig.Presets.Keys)}, not '{name}'");
            o.Model = new GptConfig(layers ?? preset.Layers, width ?? preset.Width, heads ?? preset.Heads, context ?? preset.Context, vocab ?? preset.Vocabulary).Validate();
            o.Batch = batch ?? (gpu ? 16 : 8);
            if (o.Seq == 0) o.Seq = o.Model.Context;
            if (o.Seq > o.Model.Context) throw new ArgumentException($"--seq {o.Seq} exceeds the context {o.Model.Context}");
            if (o.Precisions.Length == 0) o.Precisions = gpu ? ["autocast", "bf16"] : ["fp32"];
            return o;
        }
    }

    sealed record Result(string Name, double TokensPerSecond, double StepMs, double? Loss, string Detail);

    public static int Run(Options o)
    {
        var device = TorchRuntime.Initialize(new TorchOptions { Device = o.Mode, Threads = o.Threads, LibTorchDirectory = o.LibTorch });
        var cuda = device.type == DeviceType.CUDA;
        var adamw = AdamWConfig.Default;
        var flopsPerToken = o.Model.TrainingFlopsPerToken(o.Seq);
        Console.WriteLine($"# {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, device {Describe(device)}, libtorch threads {torch.get_num_threads()}");
        Console.WriteLine($"# model {o.Model} ({o.Model.ParameterCount / 1e6:F2}M parameters), batch {o.Batch} x {o.Seq}, micro-batches {o.MicroBatches}, " +
                          $"{o.Steps} timed steps after {o.Warmup} warm-up, AdamW {adamw}, {flopsPerToken / 1e6:F1} MFLOP/token");

        if (o.AverageDecay is { } averageDecay) return AverageCost(o, device, adamw, averageDecay);
        var ours = TimeOurs(o, device, adamw);
        var peak = MatmulPeak(device, cuda);
        Console.WriteLine($"# matmul peak ({(cuda ? "bf16 8192^3" : "fp32 1024^3")}, measured now): {peak / 1e12:F3} TFLOP/s");

        var results = new List<Result> { ours };
        if (!o.SkipReference)
            foreach (var precision in o.Precisions)
                results.Add(RunReference(o, precision, cuda, adamw) ?? new Result($"pytorch {precision}", double.NaN, double.NaN, null, "did not run"));

        Console.WriteLine();
        Console.WriteLine("| implementation | tokens/s | step ms | MFU | ratio ours/this | last loss | notes |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var mfu = r.TokensPerSecond * flopsPerToken / peak;
            var ratio = ReferenceEquals(r, ours) ? "1.00" : (ours.TokensPerSecond / r.TokensPerSecond).ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine($"| {r.Name} | {r.TokensPerSecond:F0} | {r.StepMs:F1} | {100 * mfu:F1}% | {ratio} | {r.Loss?.ToString("F4", CultureInfo.InvariantCulture) ?? "-"} | {r.Detail} |");
        }
        if (o.Json is { } path) WriteJson(path, o, device, peak, flopsPerToken, results);
        return 0;
    }

    /// <summary>The table's numbers for scripts: one object per implementation, tokens/s and MFU against the same peak
    /// (null where a reference did not run).</summary>
    static void WriteJson(string path, Options o, Device device, double peak, double flopsPerToken, List<Result> results)
    {
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        var report = new
        {
            device = Describe(device),
            model = o.Model.ToString(),
            parameters = o.Model.ParameterCount,
            batch = o.Batch,
            seq = o.Seq,
            steps = o.Steps,
            threads = torch.get_num_threads(),
            peak_flops = peak,
            flops_per_token = flopsPerToken,
            results = results.Select(r => new
            {
                name = r.Name,
                tokens_per_second = Finite(r.TokensPerSecond),
                step_ms = Finite(r.StepMs),
                mfu = Finite(r.TokensPerSecond * flopsPerToken / peak),
                last_loss = r.Loss,
                detail = r.Detail,
            }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>What keeping a weight average costs: the same steps without and with it in alternating rounds (the best
    /// round of each, so that other work on the machine counts least), the average's update alone, and its memory.</summary>
    static int AverageCost(Options o, Device device, AdamWConfig adamw, double decay)
    {
        const int rounds = 3;
        var without = new List<double>();
        var with = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            without.Add(TimeOurs(o, device, adamw).StepMs);
            with.Add(TimeOurs(o, device, adamw, decay).StepMs);
        }
        using var trainer = new ModelTrainer(o.Model, adamw, new TrainerOptions { AverageDecay = decay }, device);
        var updates = 20 * o.Steps;
        for (var i = 0; i < 3; i++) trainer.Average!.Update(trainer.Optimizer.FlatMaster);
        Synchronize(device);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < updates; i++) trainer.Average!.Update(trainer.Optimizer.FlatMaster);
        Synchronize(device);
        var updateMs = 1000 * watch.Elapsed.TotalSeconds / updates;
        var (plain, averaged) = (without.Min(), with.Min());
        Console.WriteLine($"# weight average, decay {decay}: {rounds} rounds of {o.Steps} steps each way, alternating; best round of each");
        Console.WriteLine();
        Console.WriteLine("| step ms without | step ms with | ratio with/without | update alone ms | update / step | extra memory |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Console.WriteLine($"| {plain:F2} | {averaged:F2} | {averaged / plain:F3} | {updateMs:F3} | {100 * updateMs / plain:F2}% | {Bytes(o.Model)} |");
        var small = GptConfig.Presets["gpt2-small"];
        Console.WriteLine($"# rounds without: {string.Join(", ", without.Select(ms => ms.ToString("F2", CultureInfo.InvariantCulture)))} ms; " +
            $"with: {string.Join(", ", with.Select(ms => ms.ToString("F2", CultureInfo.InvariantCulture)))} ms");
        Console.WriteLine($"# memory by arithmetic (one fp32 copy of the weights): {o.Model}: {Bytes(o.Model)}; gpt2-small {small}: {Bytes(small)}; " +
            $"AdamW's own state is 16 bytes a parameter, so the average adds a quarter");
        return 0;
    }

    static string Bytes(GptConfig model) => $"{model.ParameterCount:N0} x 4 B = {4.0 * model.ParameterCount / (1 << 20):F1} MiB";

    static Result TimeOurs(Options o, Device device, AdamWConfig adamw, double? averageDecay = null)
    {
        using var trainer = new ModelTrainer(o.Model, adamw, new TrainerOptions { MicroBatchRows = o.Batch / o.MicroBatches, AverageDecay = averageDecay }, device);
        using var gen = new Generator(1337);
        using var x = torch.randint(0, o.Model.Vocabulary, [o.Batch, o.Seq], generator: gen, dtype: ScalarType.Int64).to(device);
        using var y = torch.randint(0, o.Model.Vocabulary, [o.Batch, o.Seq], generator: gen, dtype: ScalarType.Int64).to(device);
        for (var i = 0; i < o.Warmup; i++) trainer.TrainStep(x, y, 3e-4);
        Synchronize(device);
        var watch = Stopwatch.StartNew();
        Tensor? last = null;
        for (var i = 0; i < o.Steps; i++)
        {
            last?.Dispose();
            last = trainer.TrainStepDeferred(x, y, 3e-4);       // no host wait inside the loop
        }
        var loss = last!.item<float>();
        var seconds = watch.Elapsed.TotalSeconds;
        last.Dispose();
        return new Result("streaming (TorchSharp)", (double)o.Steps * o.Batch * o.Seq / seconds, 1000 * seconds / o.Steps, loss,
            $"flat AdamW, {trainer.ComputeType} compute, fp32 master");
    }

    static double MatmulPeak(Device device, bool cuda)
    {
        var n = cuda ? 8192 : 1024;
        var repeats = cuda ? 50 : 5;
        var dtype = cuda ? ScalarType.BFloat16 : ScalarType.Float32;
        using var a = torch.randn([n, n], dtype: dtype, device: device);
        using var b = torch.randn([n, n], dtype: dtype, device: device);
        for (var i = 0; i < 2; i++) using (torch.matmul(a, b)) { }
        Synchronize(device);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < repeats; i++) using (torch.matmul(a, b)) { }
        Synchronize(device);
        return 2.0 * n * n * (double)n * repeats / watch.Elapsed.TotalSeconds;
    }

    static Result? RunReference(Options o, string precision, bool cuda, AdamWConfig adamw)
    {
        var script = o.Reference ?? new[] { Path.Combine(AppContext.BaseDirectory, "reference.py"), Path.Combine("bench", "reference.py"), "reference.py" }.FirstOrDefault(File.Exists);
        if (script is null || !File.Exists(script)) { Console.WriteLine("# reference.py not found (--reference FILE)"); return null; }
        var info = new ProcessStartInfo(o.Python!) { RedirectStandardOutput = true, RedirectStandardError = true };
        var compiled = precision.EndsWith("+compile", StringComparison.Ordinal);
        foreach (var a in new[] { script, "--device", cuda ? "cuda" : "cpu", "--precision", compiled ? precision[..^"+compile".Length] : precision,
                     "--layers", $"{o.Model.Layers}", "--width", $"{o.Model.Width}", "--heads", $"{o.Model.Heads}",
                     "--context", $"{o.Model.Context}", "--vocab", $"{o.Model.Vocabulary}", "--batch", $"{o.Batch}", "--seq", $"{o.Seq}",
                     "--steps", $"{o.Steps}", "--warmup", $"{o.Warmup}", "--threads", $"{o.Threads}",
                     "--beta1", $"{adamw.Beta1}", "--beta2", $"{adamw.Beta2}", "--eps", $"{adamw.Epsilon}",
                     "--weight-decay", $"{adamw.WeightDecay}", "--max-grad-norm", $"{adamw.MaxGradNorm}" })
            info.ArgumentList.Add(a);
        if (compiled) info.ArgumentList.Add("--compile");
        Console.WriteLine($"# reference: {o.Python} {string.Join(' ', info.ArgumentList)}");
        try
        {
            using var p = Process.Start(info)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
            if (p.ExitCode != 0 || line is null)
            {
                Console.WriteLine($"# reference {precision} failed (exit {p.ExitCode}): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
                return null;
            }
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            Console.WriteLine($"# reference {precision}: torch {r.GetProperty("torch").GetString()}, its own matmul peak {r.GetProperty("peak_flops").GetDouble() / 1e12:F3} TFLOP/s");
            return new Result($"pytorch {precision}", r.GetProperty("tokens_per_second").GetDouble(), r.GetProperty("step_ms").GetDouble(),
                r.GetProperty("last_loss").GetDouble(), $"torch {r.GetProperty("torch").GetString()}, {r.GetProperty("optimizer").GetString()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"# reference: cannot start {o.Python}: {e.Message}");
            return null;
        }
    }

    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
    }

    static string Describe(Device device) => device.type == DeviceType.CUDA ? "cuda" : $"cpu ({Environment.ProcessorCount} cores visible)";
}
