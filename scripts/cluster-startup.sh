#!/usr/bin/env bash
# Start-up time of `whet serve` with its default one-silo localhost cluster and with
# `--cluster none` (no silo): from process start to the first answer of GET /healthz, with the CPU
# time the process had used by then (on a loaded machine the wall time is mostly the wait for a
# core; the CPU time is the work). Rounds alternate the two modes. WHET_STARTUP_TRACE=1 is set, so
# each start's phases (ms since the process started, and CPU ms) are kept in $TRACE_DIR.
set -u
cd "$(dirname "$0")/.."
WHET=(dotnet "$(find src/Whetstone.Cli/bin -name whet.dll | head -1)")   # dotnet build src/Whetstone.Cli first
MODEL=${1:?usage: scripts/cluster-startup.sh MODEL_DIRECTORY (e.g. models/whet-nano)}
ROUNDS=${ROUNDS:-3}
TRACE_DIR=${TRACE_DIR:-$(mktemp -d)}
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for round in $(seq 1 "$ROUNDS"); do
  for mode in none default; do
    data=$(mktemp -d); port=$(free)
    extra=(); [ $mode = none ] && extra=(--cluster none)
    t0=$(date +%s%N)
    WHET_STARTUP_TRACE=1 WHET_ADMIN_KEY=sk-startup-measure "${WHET[@]}" serve --models "$MODEL" --data "$data" \
      --urls "http://127.0.0.1:$port" "${extra[@]}" >"$TRACE_DIR/$mode-$round.log" 2>&1 &
    pid=$!
    ok=0
    for _ in $(seq 1 2400); do
      if curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; then ok=1; break; fi
      kill -0 $pid 2>/dev/null || break
      sleep 0.05
    done
    t1=$(date +%s%N)
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' /proc/$pid/stat 2>/dev/null)
    printf 'round %s %-7s: %6.2f s wall, %s s CPU (ok=%s) load %s\n' "$round" "$mode" \
      "$(python3 -c "print(($t1-$t0)/1e9)")" "$cpu" "$ok" "$(cut -d' ' -f1-3 /proc/loadavg)"
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    rm -rf "$data"
  done
done
echo "phases of each start: $TRACE_DIR"
