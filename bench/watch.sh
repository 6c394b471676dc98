#!/usr/bin/env bash
# `streaming watch` as the issue asks for it: three files arriving one minute apart (or $1 seconds) in a watched folder,
# the silo stopped and started again as the second arrives and the watcher killed and started again before the third.
# The run must train them as three tasks in their order with exact token counts. Prints the watcher's lines, the
# tasks' counts and the verdict; CI runs the same test with no gap.
set -uo pipefail
cd "$(dirname "$0")/.."
gap=${1:-60}
log=$(mktemp)
dotnet build tests/Integration.Tests -c Release -v quiet -nologo || exit 1
STREAMING_WATCH_GAP_SECONDS=$gap dotnet test tests/Integration.Tests -c Release --no-build \
  --filter "FullyQualifiedName~WatchTests.FilesArrivingOneAfterAnother" --logger "console;verbosity=detailed" > "$log" 2>&1
status=$?
grep -E "^ *[0-9:]{8} |task [a-z]+: |Error Message" "$log"
echo "watch: files ${gap} s apart, test $([ $status -eq 0 ] && echo passed || echo FAILED) ($log)"
exit $status
