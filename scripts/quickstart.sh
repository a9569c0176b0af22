#!/usr/bin/env bash
# The quickstart on embedded defaults: serve the shipped whet-nano model over the training
# API with SQLite under .data/, and run the quickstart client against it — LoRA SFT steps
# through the SDK, sampler weights saved, a sample drawn from them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
port="${WHET_PORT:-8765}"
model=models/whet-nano

dotnet build -c Release -v q --nologo src/Whetstone.Cli >/dev/null
dotnet build -c Release -v q --nologo examples/QuickStart >/dev/null
whet=src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet

export WHET_ADMIN_KEY="${WHET_ADMIN_KEY:-whet_local_demo_key}"
"$whet" serve --models "$model" --data .data/server --urls "http://127.0.0.1:$port" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "whet serve exited" >&2; exit 1; }
  sleep 0.2
done
dotnet examples/QuickStart/bin/Release/net10.0/linux-x64/QuickStart.dll "http://127.0.0.1:$port" "$WHET_ADMIN_KEY" whet-nano "$model"
