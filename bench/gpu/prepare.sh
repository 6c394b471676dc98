#!/usr/bin/env bash
# Builds, on a machine with the .NET SDK, everything bench/gpu/run.sh needs on a GPU machine that has neither .NET
# nor a network: the silo, the client and the bench published without libtorch (-p:TorchNative=external; the GPU
# machine's PyTorch brings a CUDA libtorch) into .device/app, and the .NET runtime packed into .device.
# .device/ is git-ignored; carry it with the working tree (it must stay well under 64 MiB with the tree).
#   usage: bench/gpu/prepare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f .device/dotnet-runtime.tar.xz ] || bash bench/gpu/pack-runtime.sh .device
rm -rf .device/app
# One folder for the three: they share every dependency at the same (centrally pinned) version.
for project in src/Silo src/Client bench/Streaming.Bench; do
    dotnet publish "$project" -c Release -p:TorchNative=external -o .device/app --nologo -v quiet
done
if ls .device/app | grep -qi '^libtorch\(_cpu\|_cuda\)\?\.so'; then
    echo "error: .device/app holds a libtorch; the external flavour must leave it out" >&2
    exit 1
fi
du -sh .device .device/app .device/dotnet-runtime.tar.xz
echo "now, on the GPU machine, in the repository root with .device carried: bash bench/gpu/run.sh"
