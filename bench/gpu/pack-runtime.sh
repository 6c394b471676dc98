#!/usr/bin/env bash
# Packs the .NET runtime this machine builds with (the dotnet host and the two shared frameworks the silo, client
# and bench need) into DIR/dotnet-runtime.tar.xz, so that a GPU machine without .NET can run framework-dependent
# builds: bench/gpu/run.sh unpacks it when no dotnet is on PATH.
#   usage: bench/gpu/pack-runtime.sh DIR
set -euo pipefail
out=${1:?usage: pack-runtime.sh DIR}
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
mkdir -p "$out"
tar -C "$root" -cJf "$out/dotnet-runtime.tar.xz" dotnet host shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App
echo "packed $(du -h "$out/dotnet-runtime.tar.xz" | cut -f1) into $out/dotnet-runtime.tar.xz"
