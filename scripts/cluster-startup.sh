#!/usr/bin/env bash
# Start-up time of `whet serve` with and without a localhost `both` silo, on free ports: from
# process start to the first answer of GET /healthz. Rounds alternate the two modes.
set -u
cd "$(dirname "$0")/.."
WHET=(dotnet "$(find src/Whetstone.Cli/bin -name whet.dll | head -1)")   # dotnet build src/Whetstone.Cli first
MODEL=${1:?usage: scripts/cluster-startup.sh MODEL_DIRECTORY (e.g. one made by whet init-model)}
free() { python3 -c 'import socket
while True:
    a=socket.socket(); a.bind(("127.0.0.1",0)); p=a.getsockname()[1]
    b=socket.socket()
    try:
        b.bind(("127.0.0.1",p+1)); print(p); break
    except OSError: pass
    finally: a.close(); b.close()'; }
for round in 1 2 3; do
  for mode in plain both; do
    data=$(mktemp -d); port=$(free); silo=$(free)
    extra=(); [ $mode = both ] && extra=(--cluster localhost --role both --silo-port $silo --primary-silo-port $silo)
    t0=$(date +%s.%N)
    WHET_ADMIN_KEY=sk-startup-measure "${WHET[@]}" serve --models $MODEL --data $data --urls http://127.0.0.1:$port "${extra[@]}" >/dev/null 2>&1 &
    pid=$!
    ok=0
    for i in $(seq 1 1200); do
      if curl -sf -o /dev/null http://127.0.0.1:$port/healthz; then ok=1; break; fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.05
    done
    t1=$(date +%s.%N)
    echo "round $round $mode: $(python3 -c "print(f'{$t1-$t0:.2f}')") s (ok=$ok) load $(cut -d' ' -f1-3 /proc/loadavg)"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    rm -rf $data
  done
done
