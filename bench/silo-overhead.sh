#!/usr/bin/env bash
# The silo's cost against the bench loop on the CPU: rounds that alternate (1) a silo (Release, --device cpu --threads 1,
# its own data folder and free ports) training one run of the tiny model (4 x 128, context 128, bytes, 32 x 128 tokens a
# step, no evaluation between task ends, no anneal) on the sample corpora, its tokens/s read from /metrics over a window
# after a warm-up, and (2) Streaming.Bench's loop (ModelTrainer alone) on the same model, batch and thread count. Prints
# each round's pair and ratio, and the ratio of the means.
#   usage: bench/silo-overhead.sh [ROUNDS (2)] [WINDOW_SECONDS (60)]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2} window=${2:-60}
dotnet build src/Silo -c Release -v quiet -nologo > /dev/null
dotnet build src/Client -c Release -v quiet -nologo > /dev/null
dotnet build bench/Streaming.Bench -c Release -v quiet -nologo > /dev/null
silo_dll=src/Silo/bin/Release/net10.0/linux-x64/streaming-silo.dll
client_dll=src/Client/bin/Release/net10.0/linux-x64/streaming.dll
bench_dll=bench/Streaming.Bench/bin/Release/net10.0/linux-x64/Streaming.Bench.dll
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

silo_tokens_per_second() {
    local data http gateway silo pid
    data=$(mktemp -d) http=$(free_port) gateway=$(free_port) silo=$(free_port)
    dotnet "$silo_dll" --data "$data" --http-port "$http" --silo-port "$silo" --gateway-port "$gateway" --device cpu --threads 1 \
        > "$data.log" 2>&1 &
    pid=$!
    trap 'kill "$pid" 2> /dev/null || true; rm -rf "$data" "$data.log"' EXIT    # this runs in $( ): its exit
    streaming() { dotnet "$client_dll" "$@" --gateway "$gateway"; }
    for _ in $(seq 60); do streaming status > /dev/null 2>&1 && break; sleep 1; done
    streaming run create overhead --model tiny --context 128 --tokenizer byte --batch-tokens 4096 --micro-batch 32 \
        --evaluate-every 1000000 --anneal-fraction 0 > /dev/null
    for corpus in english german code; do streaming ingest --run overhead "samples/corpora/$corpus" --progress never > /dev/null; done
    sleep 15                                                      # past the first steps and the ingests
    trained() { curl -s "localhost:$http/metrics" | awk '/^streaming_tokens_trained_total/ { s += $2 } END { print s + 0 }'; }
    local t0 a t1 b
    t0=$(date +%s.%N) a=$(trained); sleep "$window"; t1=$(date +%s.%N) b=$(trained)
    kill "$pid"; wait "$pid" 2> /dev/null || true
    rm -rf "$data" "$data.log"
    python3 -c "print(round(($b - $a) / ($t1 - $t0)))"
}

bench_tokens_per_second() {
    dotnet "$bench_dll" --mode cpu --threads 1 --config tiny --context 128 --batch 32 --seq 128 --steps 30 --warmup 3 \
        --no-reference | awk -F'|' '/streaming \(TorchSharp\)/ { gsub(/ /, "", $3); print $3 }'
}

silos=() benches=()
for round in $(seq "$rounds"); do
    s=$(silo_tokens_per_second) b=$(bench_tokens_per_second)
    silos+=("$s") benches+=("$b")
    echo "round $round: silo $s tokens/s, bench loop $b tokens/s, silo / bench $(python3 -c "print(f'{$s / $b:.3f}')") (load $(cut -d' ' -f1 /proc/loadavg))"
done
python3 -c "
s, b = [${silos[*]/%/,}], [${benches[*]/%/,}]
print(f'mean: silo {sum(s) / len(s):.0f}, bench loop {sum(b) / len(b):.0f}, silo / bench {sum(s) / sum(b):.3f}')"
