#!/usr/bin/env bash
# Upload throughput: the same generated text file (${1:-100} MB of paragraphs) ingested twice, each time by a fresh silo on
# this machine (so that no earlier run trains meanwhile): once with `streaming ingest --on-silo FILE` (the silo reads the
# path itself) and once with `streaming ingest FILE` (the client hashes it, uploads it in chunks, then the silo ingests its
# copy). Prints MB/s of both (file size over the command's wall time), the upload's own MB/s (size over the difference)
# and the ratio. Client and silo share the machine: the network is loopback, the disk and the CPUs are shared.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build src/Silo -c Release -v quiet -nologo >/dev/null
dotnet build src/Client -c Release -v quiet -nologo >/dev/null
silo_dll=src/Silo/bin/Release/net10.0/linux-x64/streaming-silo.dll
client_dll=src/Client/bin/Release/net10.0/linux-x64/streaming.dll
gateway=31311

python3 - "$work/corpus.txt" "$megabytes" <<'EOF'
import random, sys
random.seed(7)
words = "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they".split()
target = int(sys.argv[2]) * 1000 * 1000
with open(sys.argv[1], "w") as out:
    written = 0
    while written < target:
        paragraph = " ".join(random.choice(words) for _ in range(random.randint(40, 200))) + "\n\n"
        written += out.write(paragraph)
EOF
bytes=$(stat -c %s "$work/corpus.txt")

# Seconds that `streaming ingest ARGS` takes against a fresh silo, and the silo's peak resident memory (MiB) by then.
timed_ingest() {
    rm -rf "$work/data"
    dotnet "$silo_dll" --data "$work/data" --device cpu --http-port 0 --silo-port 21311 --gateway-port $gateway >"$work/silo.log" 2>&1 &
    local silo=$!
    trap "kill $silo 2>/dev/null" EXIT   # this runs in a subshell: its own trap stops its silo if it fails
    until dotnet "$client_dll" status --gateway $gateway >/dev/null 2>&1; do sleep 1; done
    local start end
    start=$(date +%s.%N)
    dotnet "$client_dll" ingest --run bench --progress never --gateway $gateway "$@" "$work/corpus.txt" >&2
    end=$(date +%s.%N)
    local peak
    peak=$(awk '/VmHWM/ { print int($2 / 1024) }' /proc/$silo/status)
    kill $silo && wait $silo 2>/dev/null || true
    echo "$(echo "$end - $start" | bc -l) $peak"
}

read -r on_silo on_silo_peak < <(timed_ingest --on-silo)
read -r upload upload_peak < <(timed_ingest)
awk -v b="$bytes" -v s="$on_silo" -v u="$upload" -v sp="$on_silo_peak" -v up="$upload_peak" 'BEGIN {
    mb = b / 1e6
    printf "file: %.1f MB\n", mb
    printf "ingest --on-silo: %.1f s, %.1f MB/s; silo peak memory %d MiB\n", s, mb / s, sp
    printf "ingest (upload):  %.1f s, %.1f MB/s; silo peak memory %d MiB (the upload itself, hashing included: %.1f MB/s)\n", u, mb / u, up, (u > s ? mb / (u - s) : 0)
    printf "ratio upload/on-silo: %.2f of the throughput\n", s / u
}'
