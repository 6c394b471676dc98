#!/usr/bin/env bash
# The GPU check in one command (issue 13, item 7), on a machine that bench/gpu/prepare.sh's .device/ was carried to:
#   1. a silo with --device cuda trains a gpt2-small run (gpt2 tokens, bf16, context 1024, 16 x 1024 tokens a step)
#      on the sample corpora for --seconds (fed again under new names whenever it is about to run out), its status
#      and the GPU's memory sampled every few seconds;
#   2. Streaming.Bench on the same GPU against PyTorch (bench/reference.py) with the same precision policy (autocast),
#      pure bf16 and autocast + torch.compile, at gpt2-small (the silo's model and batch) and gpt2-medium;
#   3. bench/gpu/summary.py: tokens/s, MFU, peak memory, the loss falling, the evaluator's lag, every ratio, and the
#      silo's tokens/s over the bench loop's on the same model: printed, and written to OUT/summary.{json,md}
#      (beside OUT/bench.md, OUT/silo.log and the raw samples in OUT/raw.tar.gz).
# --cpu runs the same steps on the CPU with tiny sizes (CI runs it: tests/Integration.Tests/GpuScriptTests.cs).
#   usage: bench/gpu/run.sh [--cpu] [--seconds S] [--out DIR] [--app DIR] [--silo DLL --client DLL --bench DLL]
#   OUT defaults to $OUT (the device machine's folder that comes back), else bench/gpu/out; PYTHON to python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=cuda seconds=300 out=${OUT:-bench/gpu/out} app=.device/app silo= client= bench=
while [ $# -gt 0 ]; do
    case $1 in
        --cpu) mode=cpu seconds=20 ;;
        --seconds) seconds=$2; shift ;;
        --out) out=$2; shift ;;
        --app) app=$2; shift ;;
        --silo) silo=$2; shift ;;
        --client) client=$2; shift ;;
        --bench) bench=$2; shift ;;
        *) echo "error: unknown option '$1' (usage: bench/gpu/run.sh [--cpu] [--seconds S] [--out DIR] [--app DIR] [--silo DLL --client DLL --bench DLL])" >&2; exit 2 ;;
    esac
    shift
done
silo=${silo:-$app/streaming-silo.dll} client=${client:-$app/streaming.dll} bench=${bench:-$app/Streaming.Bench.dll}
python=${PYTHON:-python3}
for dll in "$silo" "$client" "$bench"; do
    [ -f "$dll" ] || { echo "error: $dll is missing: run bench/gpu/prepare.sh first (or pass --silo/--client/--bench)" >&2; exit 2; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The device machine has no .NET: the runtime prepare.sh packed.
if ! command -v dotnet > /dev/null; then
    mkdir -p /tmp/dotnet && tar -xJf .device/dotnet-runtime.tar.xz -C /tmp/dotnet
    export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH
fi

run=gpu-check
corpora="samples/corpora/english samples/corpora/german samples/corpora/code samples/corpora/french"
if [ $mode = cuda ]; then
    libtorch=$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib
    export LD_LIBRARY_PATH=$libtorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$out/device.txt"
    silo_device="--device cuda --libtorch $libtorch"
    model="--model gpt2-small --context 1024 --tokenizer gpt2 --precision bf16 --batch-tokens 16384 --micro-batch 16"
    evaluate_every=100 poll=5
    bench_common="--mode cuda --libtorch $libtorch --steps 30 --warmup 5 --precisions autocast,bf16,autocast+compile"
    bench_models=("--config gpt2-small --batch 16" "--config gpt2-medium --batch 8")
else
    echo "cpu ($(nproc) cores), 1 libtorch thread" > "$out/device.txt"
    silo_device="--device cpu --threads 1"
    model="--layers 2 --width 64 --heads 2 --context 64 --tokenizer byte --batch-tokens 512 --micro-batch 8"
    evaluate_every=20 poll=2
    bench_common="--mode cpu --threads 1 --steps 10 --warmup 2 --precisions fp32"
    bench_models=("--layers 2 --width 64 --heads 2 --context 64 --vocab 256 --batch 8" "--config tiny --batch 4 --seq 64")
    corpora="samples/corpora/english samples/corpora/german"
fi

ports=($("$python" -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])'))
data=$(mktemp -d)
dotnet "$silo" --data "$data" --http-port "${ports[0]}" --silo-port "${ports[1]}" --gateway-port "${ports[2]}" $silo_device \
    > "$out/silo.log" 2>&1 &
silo_pid=$!
stop_silo() { kill -TERM "$silo_pid" 2> /dev/null && wait "$silo_pid" 2> /dev/null || true; }
trap 'stop_silo; rm -rf "$data"' EXIT
gateway=${ports[2]}
streaming() { dotnet "$client" "$@" --gateway "$gateway"; }
# A busy machine can take longer to start a silo than the client waits (30 s).
for _ in $(seq 60); do
    streaming status > /dev/null 2>&1 && break
    sleep 1
    kill -0 "$silo_pid" 2> /dev/null || { echo "error: the silo exited; its log: $out/silo.log" >&2; exit 1; }
done

# No anneal branches: every step is the main trajectory's, so tokens trained over time is the run's throughput.
streaming run create $run $model --anneal-fraction 0 --evaluate-every $evaluate_every
ingest() {   # each corpus of the run's stream once more, as new tasks
    for corpus in $corpora; do
        streaming ingest --run $run "$corpus" --name "$(basename "$corpus")-$(date +%s%N)" --allow-duplicate --progress never
    done
}
ingest

# On the GPU the corpora last seconds: they are fed again (as new tasks) whenever fewer than 2M tokens are left.
export -f ingest streaming
export client run corpora gateway
if [ $mode = cuda ]; then sampling=(--gpu --feed "bash -c ingest" --below 2000000); else sampling=(--pid "$silo_pid"); fi
"$python" bench/gpu/sample.py "http://127.0.0.1:${ports[0]}/metrics" $run "$seconds" $poll "$out/samples.jsonl" "${sampling[@]}"
streaming status --run $run --json > "$out/status.json"
streaming eval --run $run --json > "$out/eval.json"
stop_silo

: > "$out/bench.md"
index=1
for shape in "${bench_models[@]}"; do
    dotnet "$bench" $bench_common $shape --python "$python" --json "$out/bench-$index.json" | tee -a "$out/bench.md"
    index=$((index + 1))
done

"$python" bench/gpu/summary.py "$out" $mode
# What comes back from a device machine is a few files: the summary, the bench tables, the silo's log, the raw data packed.
(cd "$out" && raw=(device.txt samples.jsonl status.json eval.json bench-*.json) && tar -czf raw.tar.gz "${raw[@]}" && rm -f "${raw[@]}")
