using System.Runtime.InteropServices;

namespace Streaming.Grains.Telemetry;

/// <summary>
/// Memory of the machine's NVIDIA GPUs from NVML (libnvidia-ml, installed with the driver). TorchSharp has
/// no CUDA memory API, and NVML also sees memory that libtorch's caching allocator holds but has not handed
/// out. On machines without the driver there is simply nothing to report.
/// </summary>
public static class GpuMemory
{
    const string Library = "libnvidia-ml.so.1";

    static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            return nvmlInit_v2() == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    });

    /// <summary>Used and total bytes per GPU index; empty without NVIDIA GPUs.</summary>
    public static IEnumerable<(int Device, ulong Used, ulong Total)> Read()
    {
        if (!Available.Value || nvmlDeviceGetCount_v2(out var count) != 0) yield break;
        for (uint i = 0; i < count; i++)
            if (nvmlDeviceGetHandleByIndex_v2(i, out var device) == 0 && nvmlDeviceGetMemoryInfo(device, out var memory) == 0)
                yield return ((int)i, memory.Used, memory.Total);
    }

    [StructLayout(LayoutKind.Sequential)]
    struct NvmlMemory
    {
        public ulong Total, Free, Used;
    }

    [DllImport(Library)]
    static extern int nvmlInit_v2();

    [DllImport(Library)]
    static extern int nvmlDeviceGetCount_v2(out uint count);

    [DllImport(Library)]
    static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

    [DllImport(Library)]
    static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);
}
