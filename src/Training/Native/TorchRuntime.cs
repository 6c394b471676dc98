using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Native;

/// <summary>Where libtorch comes from and which device trains. One instance per process.</summary>
public sealed record TorchOptions
{
    /// <summary>The environment variable that names an external libtorch folder (same as --libtorch).</summary>
    public const string LibTorchVariable = "STREAMING_LIBTORCH";

    /// <summary>A folder holding libtorch (e.g. a pip PyTorch's torch/lib); null: the libtorch next to the app.</summary>
    public string? LibTorchDirectory { get; init; }

    /// <summary>auto (CUDA when available), cpu or cuda.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>libtorch intra-op threads; its OpenMP workers spin, so it is set explicitly, never inherited.</summary>
    public int Threads { get; init; } = 1;
}

/// <summary>A user-facing failure to load libtorch or to reach the requested device.</summary>
public sealed class TorchLoadException(string message) : Exception(message);

/// <summary>
/// Loads libtorch once per process and picks the device. With an external folder, the libraries are
/// loaded from it by absolute path (in dependency order) before TorchSharp's own loader runs, so the
/// app's libLibTorchSharp.so binds to them and no second libtorch can sneak in.
/// </summary>
public static class TorchRuntime
{
    static readonly string[] CpuLibraries = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];
    static readonly string[] CudaLibraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];
    static readonly Lock Gate = new();
    static Device? selected;

    /// <summary>The device chosen by <see cref="Initialize"/>.</summary>
    public static Device Device => selected ?? throw new InvalidOperationException("TorchRuntime.Initialize has not run");

    /// <summary>Loads libtorch, selects the device and sets the thread count; later calls return the first choice.</summary>
    public static Device Initialize(TorchOptions options)
    {
        lock (Gate)
        {
            if (selected is not null) return selected;
            var tried = new List<string>();
            var external = options.LibTorchDirectory ?? Environment.GetEnvironmentVariable(TorchOptions.LibTorchVariable);
            if (!string.IsNullOrWhiteSpace(external)) LoadExternal(external, tried);
            else if (!File.Exists(Path.Combine(AppContext.BaseDirectory, "libtorch_cpu.so")))
                throw new TorchLoadException($"this build carries no libtorch (built with -p:TorchNative=external): pass --libtorch DIR " +
                    $"or set {TorchOptions.LibTorchVariable} to a libtorch folder, e.g. a pip PyTorch's torch/lib");
            else tried.Add($"libtorch next to the app ({AppContext.BaseDirectory})");
            try
            {
                // The first touch of `torch` loads the native backend (and tries CUDA).
                _ = torch.cuda.is_available();
            }
            catch (Exception e)
            {
                throw new TorchLoadException($"libtorch did not load; tried {string.Join("; ", tried)}: {ExceptionText.FirstLine(ExceptionText.Innermost(e).Message)}");
            }
            selected = SelectDevice(options.Device, tried);
            torch.set_num_threads(Math.Max(1, options.Threads));
            return selected;
        }
    }

    static void LoadExternal(string directory, List<string> tried)
    {
        if (!Directory.Exists(directory))
            throw new TorchLoadException($"libtorch folder '{directory}' does not exist (from --libtorch or {TorchOptions.LibTorchVariable})");
        var withCuda = File.Exists(Path.Combine(directory, "libtorch_cuda.so"));
        foreach (var name in withCuda ? CudaLibraries : CpuLibraries)
        {
            var path = Path.Combine(directory, name);
            tried.Add(path);
            if (!NativeLibrary.TryLoad(path, out _))
                throw new TorchLoadException($"cannot load {path} (is this a libtorch folder, and are its CUDA libraries reachable?)");
        }
        var bridge = FindLibTorchSharp();
        tried.Add(bridge);
        if (!NativeLibrary.TryLoad(bridge, out var handle))
            throw new TorchLoadException($"cannot load {bridge} against the libtorch in '{directory}'");
        NativeLibrary.SetDllImportResolver(typeof(torch).Assembly,
            (name, _, _) => name == "LibTorchSharp" ? handle : IntPtr.Zero);
    }

    static string FindLibTorchSharp()
    {
        foreach (var relative in new[] { "libLibTorchSharp.so", "runtimes/linux-x64/native/libLibTorchSharp.so" })
        {
            var path = Path.Combine(AppContext.BaseDirectory, relative);
            if (File.Exists(path)) return path;
        }
        throw new TorchLoadException($"libLibTorchSharp.so is missing from {AppContext.BaseDirectory}");
    }

    static Device SelectDevice(string requested, List<string> tried)
    {
        var cuda = torch.cuda.is_available();
        switch (requested.ToLowerInvariant())
        {
            case "cpu": return torch.CPU;
            case "auto": return cuda ? torch.CUDA : torch.CPU;
            case "cuda":
                if (!cuda)
                    throw new TorchLoadException($"--device cuda: CUDA is not available (tried {string.Join("; ", tried)}); " +
                        $"build with -p:TorchNative=external and point --libtorch or {TorchOptions.LibTorchVariable} at a CUDA libtorch");
                torch.InitializeDeviceType(DeviceType.CUDA);
                return torch.CUDA;
            default:
                throw new TorchLoadException($"--device must be auto, cpu or cuda, not '{requested}'");
        }
    }

}
