#!/usr/bin/env bash
# The fault suite's long version: the silo killed with SIGKILL at 50 random moments (or $1) while a run trains two
# corpora; the run must end with exact token counts and weights and optimizer moments bit-identical to an uninterrupted
# run. STREAMING_FAULT_SEED picks the moments. Prints the kills done and the verdict, and exits with the test's status;
# CI runs the short version (3 kills).
set -uo pipefail
cd "$(dirname "$0")/.."
kills=${1:-50}
log=$(mktemp)
dotnet build tests/Integration.Tests -c Release -v quiet -nologo || exit 1
STREAMING_FAULT_KILLS=$kills dotnet test tests/Integration.Tests -c Release --no-build \
  --filter "FullyQualifiedName~FaultSuiteTests" --logger "console;verbosity=detailed" > "$log" 2>&1
status=$?
grep -E "seed [0-9]+: |Error Message|Expected|Actual" "$log" | sort -u
echo "faults: $kills kills asked, test $([ $status -eq 0 ] && echo passed || echo FAILED) ($log)"
exit $status
