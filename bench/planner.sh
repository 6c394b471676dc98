#!/usr/bin/env bash
# Planned anneals, predicted against measured: one run on the sample corpus samples/corpora/english (a very small GPT,
# 1 layer of width 32, context 32, 256 tokens a step, on CPU, sized for a busy 2-core machine; infinite schedule:
# warmup 5, cooldown 60 from 3e-3 to 1e-3, anneal branches down to 1e-4; the live model evaluated every 5 main steps).
# Once the main trajectory is $1 steps in (default 100, past the cooldown), four anneals are planned one after another
# from the run's own curve and taken with --wait: budgets of 5, 20 and 50 steps, then the shortest branch the law says
# reaches 0.01 below what the 20-step release measured. Prints a table of each plan (main step it forked at, steps,
# predicted, measured, error).
set -euo pipefail
cd "$(dirname "$0")/.."
start_at=${1:-100}
work=$(mktemp -d)
silo=""
trap '[ -n "$silo" ] && kill $silo 2>/dev/null; rm -rf "$work"' EXIT
dotnet build src/Silo -c Release -v quiet -nologo >/dev/null
dotnet build src/Client -c Release -v quiet -nologo >/dev/null
silo_dll=src/Silo/bin/Release/net10.0/linux-x64/streaming-silo.dll
client_dll=src/Client/bin/Release/net10.0/linux-x64/streaming.dll
gateway=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
silo_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
client() { dotnet "$client_dll" "$@" --gateway "$gateway"; }

dotnet "$silo_dll" --data "$work/data" --device cpu --threads 2 --http-port 0 --silo-port "$silo_port" --gateway-port "$gateway" >"$work/silo.log" 2>&1 &
silo=$!
until client status >/dev/null 2>&1; do sleep 1; done
began=$(date +%s)
client run create bench --warmup 5 --cooldown 60 --max-lr 3e-3 --const-lr 1e-3 --min-lr 1e-4 --evaluate-every 5 \
    --layers 1 --width 32 --heads 2 --context 32 --batch-tokens 256 >/dev/null
client ingest --run bench --progress never samples/corpora/english >/dev/null

main_step() { client status --run bench --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"][0]["step"])'; }
until [ "$(main_step)" -ge "$start_at" ]; do sleep 5; done

# One planned anneal, taken and waited for: "main-step steps predicted measured" from the command's lines.
plan() {
    local out
    out=$(client anneal --run bench "$@" --wait 2>&1 | tr -d '\r') || { echo "$out" >&2; return 1; }
    echo "$out" | grep -E '^planned anneal|predicted .*, measured' >&2
    echo "$out" | python3 -c '
import re, sys
text = sys.stdin.read()
plan = re.search(r"planned anneal of run \S+: (\d+) steps from main step ([\d,]+), predicted validation loss ([\d.]+)", text)
measured = re.search(r"predicted ([\d.]+), measured ([\d.]+) on", text)
print(plan.group(2).replace(",", ""), plan.group(1), plan.group(3), measured.group(2))'
}

rows=()
for budget in 5 20 50; do
    rows+=("--budget $budget|$(plan --budget "$budget")")
    [ "$budget" = 20 ] && target=$(echo "${rows[-1]#*|}" | awk '{ printf "%.4f", $4 - 0.01 }')
done
rows+=("--target-loss $target|$(plan --target-loss "$target" --max-steps 150)")

echo
echo "| plan | forked at main step | steps | predicted | measured | measured - predicted |"
echo "|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
    IFS='|' read -r asked numbers <<<"$row"
    read -r step steps predicted measured <<<"$numbers"
    awk -v a="$asked" -v s="$step" -v n="$steps" -v p="$predicted" -v m="$measured" \
        'BEGIN { printf "| `%s` | %d | %d | %.4f | %.4f | %+.4f |\n", a, s, n, p, m, m - p }'
done
echo
echo "planner bench: $(( $(date +%s) - began )) s after the silo started (loss in nats per byte on english's validation split)"
