#!/usr/bin/env bash
# The fault suite's long version: the silo killed with SIGKILL at 50 random moments (or $1) while a run trains two
# corpora; the run must end with exact token counts and weights and optimizer moments bit-identical to an uninterrupted
# run. STREAMING_FAULT_SEED picks the moments. Prints the kills done and the verdict; CI runs the short version (3 kills).
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-50}
dotnet build tests/Integration.Tests -c Release -v quiet -nologo
STREAMING_FAULT_KILLS=$kills dotnet test tests/Integration.Tests -c Release --no-build \
  --filter "FullyQualifiedName~FaultSuiteTests" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "seed [0-9]+: |Passed!|Failed!|Error Message|Expected|Actual" || true
