#!/usr/bin/env bash
# The README's main job on embedded defaults (SQLite under .data/, the shipped whet-nano): serve
# the model, deploy a fresh LoRA adapter of it with a streaming reward model and an experiential
# loop, let a small simulated population use it through the OpenAI API and give feedback until the
# loop promotes a candidate, then print the population's hidden satisfaction before and after and
# the promoted version's lineage. The promotion rule is strict (no regression-suite sum may break,
# and the canary must show at z 2 that the candidate is not worse by 0.05): if no candidate passes
# within the budget it says why and v1 keeps serving (exit 0); it exits 1 only when an iteration
# failed with an error. Further arguments go to `whet loop demo` (e.g. --loop-settings FILE).
# The round cap is high so that the minutes budget ends the job: on a quiet machine 400 rounds
# (the CLI's default) took 4.5 minutes and cut off a canary that was still deciding. The budget is 7
# minutes (was 6): the loop now trains only once 32 corrections are in (~1-2 minutes), then trains
# (1-2), gates and runs a 3-minute canary, which 6 minutes cut off (eighth session).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
port="${WHET_PORT:-8766}"
model=models/whet-nano

dotnet build -c Release -v q --nologo src/Whetstone.Cli >/dev/null
whet=src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet

export WHET_ADMIN_KEY="${WHET_ADMIN_KEY:-whet_local_demo_key}"
source scripts/lib/serve-background.sh
# fp32, not auto: the bf16-or-fp32 start-up probe can choose differently on a loaded machine, and
# then the same v1 answers differently from one run to the next (0.521 vs 0.625 measured).
serve_in_background "$model" .data/loop --dtype fp32
WHET_API_KEY="$WHET_ADMIN_KEY" "$whet" loop demo --url "http://127.0.0.1:$port" --base-model whet-nano \
  --users "${WHET_DEMO_USERS:-12}" --budget-minutes "${WHET_DEMO_MINUTES:-7}" --max-rounds "${WHET_DEMO_ROUNDS:-1200}" ${WHET_DEMO_LR:+--lr "$WHET_DEMO_LR"} "$@"
