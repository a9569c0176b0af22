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
source scripts/lib/serve-background.sh
serve_in_background "$model" .data/server
dotnet examples/QuickStart/bin/Release/net10.0/linux-x64/QuickStart.dll "http://127.0.0.1:$port" "$WHET_ADMIN_KEY" whet-nano "$model"
