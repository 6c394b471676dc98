#!/usr/bin/env bash
# The fuzz tests' long version: $1 (default 10,000) generated cases per generator: corpora through the ingest (random
# bytes, text, JSONL, damaged compression, compression bombs, parquet, folders with links), schedule configs and run
# settings. Prints, per generator, the cases run and how they ended (succeeded / refused with one line / other), the
# time taken and the peak working set, and exits with the tests' status. The normal suite runs 1,000 of each.
set -uo pipefail
cd "$(dirname "$0")/.."
cases=${1:-10000}
report=$(mktemp)
log=$(mktemp)
dotnet build tests/Training.Tests -c Release -v quiet -nologo || exit 1
dotnet build tests/Integration.Tests -c Release -v quiet -nologo || exit 1
STREAMING_FUZZ_CASES=$cases STREAMING_FUZZ_REPORT=$report dotnet test tests/Training.Tests -c Release --no-build \
  --filter "FullyQualifiedName~CorpusFuzzTests|FullyQualifiedName~ScheduleFuzzTests" --logger "console;verbosity=normal" > "$log" 2>&1
training=$?
STREAMING_FUZZ_CASES=$cases STREAMING_FUZZ_REPORT=$report dotnet test tests/Integration.Tests -c Release --no-build \
  --filter "FullyQualifiedName~RunSettingsFuzzTests" --logger "console;verbosity=normal" >> "$log" 2>&1
settings=$?
cat "$report"
grep -E "Set seed|^\s*-+ " "$log" | sort -u
status=$(( training != 0 || settings != 0 ))
echo "fuzz: $cases cases per generator, tests $([ $status -eq 0 ] && echo passed || echo FAILED) ($log)"
exit $status
