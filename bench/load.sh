#!/usr/bin/env bash
# Load: one silo (Release, its own data folder and random ports), 20 runs of a tiny model, 100 generated corpora uploaded as
# queued tasks (5 a run), and `streaming status --run R`'s calls made 100 times a second, round-robin, from one client,
# until every run has trained every token and let go of its model. Prints status latency (p50/p95/p99/max), failed calls,
# whether every run's token counts are exact, and the silo's resident memory before, at its peak, when all was trained
# and when every model was let go; exits 1 if anything is wrong. Flags go to the driver (bench/Streaming.Load, --help),
# e.g. `bench/load.sh --runs 4 --ingests 12 --out /tmp/load` (status-calls.csv, memory.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
dotnet build src/Silo -c Release -v quiet -nologo >/dev/null
dotnet build bench/Streaming.Load -c Release -v quiet -nologo >/dev/null
silo_dll=src/Silo/bin/Release/net10.0/linux-x64/streaming-silo.dll
load_dll=bench/Streaming.Load/bin/Release/net10.0/linux-x64/Streaming.Load.dll
client_dll=src/Client/bin/Release/net10.0/linux-x64/streaming.dll
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
gateway=$(free_port) silo_port=$(free_port) http_port=$(free_port)

dotnet "$silo_dll" --data "$work/data" --device cpu --http-port "$http_port" --silo-port "$silo_port" --gateway-port "$gateway" >"$work/silo.log" 2>&1 &
silo=$!
trap 'kill $silo 2>/dev/null; wait $silo 2>/dev/null; rm -rf "$work"' EXIT
until dotnet "$client_dll" status --gateway "$gateway" >/dev/null 2>&1; do
    kill -0 $silo 2>/dev/null || { echo "the silo did not start:"; tail -20 "$work/silo.log"; exit 1; }
    sleep 1
done
echo "load: silo $silo on gateway $gateway, data $work/data; machine load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
dotnet "$load_dll" --gateway "$gateway" --silo-pid $silo "$@" || status=$?
echo "load: machine load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E "fail|Exception" "$work/silo.log" | head -5 || true
exit $status
