#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing (Debian 12, as root or with sudo):
# redis-server (Redis storage, clustering and failover tests) and prometheus with promtool (metrics tests).
# The tests fail, never skip, without them.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    $sudo apt-get install -y "${missing[@]}"
fi
dotnet test Streaming.sln -c Release "$@"
