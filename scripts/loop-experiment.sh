#!/usr/bin/env bash
# The three-arm experiment of docs/results/experiential-loop.md on embedded defaults (SQLite, the
# shipped whet-nano, fp32): arms a (no loop), b (reward model frozen after its first trained iteration) and c
# (streaming reward model + online RL, gate, canary), the same seeded population drifting midway.
# Usage: bash scripts/loop-experiment.sh OUT_DIR [extra `whet loop experiment` options]
# Runs nice'd and records `uptime` before and after next to the results (OUT_DIR/uptime.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
renice -n 10 $$ >/dev/null   # the build, the server and the driver all run nice'd
out=${1:?usage: loop-experiment.sh OUT_DIR [options]}
shift
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
port="${WHET_PORT:-8768}"
dotnet build -c Release -v q --nologo src/Whetstone.Cli >/dev/null
whet=src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet
export WHET_ADMIN_KEY="${WHET_ADMIN_KEY:-whet_local_experiment_key}"
mkdir -p "$out"
data=$(mktemp -d /tmp/whet-loop-experiment.XXXXXX)
source scripts/lib/serve-background.sh
# fp32, not auto: measurements must not depend on a start-up probe's choice of dtype.
serve_in_background models/whet-nano "$data" --dtype fp32
{ echo "start: $(uptime)"; nproc; } > "$out/uptime.txt"
start=$(date +%s)
WHET_API_KEY="$WHET_ADMIN_KEY" "$whet" loop experiment --url "http://127.0.0.1:$port" --base-model whet-nano --out "$out" "$@" | tee "$out/log.txt"
echo "end: $(uptime)" >> "$out/uptime.txt"
echo "wall seconds: $(( $(date +%s) - start ))" >> "$out/uptime.txt"
