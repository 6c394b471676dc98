#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing (Debian 12, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
# The Redis grain-storage tests start a throwaway redis-server (they fail, never skip, without one).
if ! command -v redis-server >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    $sudo apt-get install -y redis-server
fi
dotnet test Streaming.sln -c Release "$@"
