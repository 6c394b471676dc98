using Streaming.Training.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Training.Tests;

public class NativeLoadingTests
{
    [Fact]
    public void LibTorchLoadsAndRunsForwardAndBackward()
    {
        var device = TorchRuntime.Initialize(new TorchOptions { Device = "cpu" });
        Assert.Equal(DeviceType.CPU, device.type);

        using var x = torch.tensor(new[] { 1f, 2f, 3f }, requires_grad: true);
        using var y = (x * x).sum();
        y.backward();

        Assert.Equal(14f, y.item<float>());
        Assert.Equal(new[] { 2f, 4f, 6f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void AutoPicksCpuWithoutCuda()
    {
        var device = TorchRuntime.Initialize(new TorchOptions { Device = "auto" });
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, device.type);
    }
}
