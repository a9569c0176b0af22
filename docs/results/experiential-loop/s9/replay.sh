#!/usr/bin/env bash
# Replays one deployment's recorded feedback stream through the real reward-model update path:
# a copy of a loop experiment's SQLite database (served answers and feedback as the simulated users
# gave them) with that deployment's reward model, predictions and every loop removed, served by
# `whet serve` (fp32, whet-nano); a fresh reward model with the given settings (auto_update off) is
# created over POST /api/v1/deployments/{name}/reward_model and updated micro-batch by micro-batch
# over POST …/reward_model/update until no feedback is left (or MAX_UPDATES), then each prequential
# prediction (made before its update) is written out with its kind, for prequential.py; with
# PROBE=FILE (probe.py make) the final version also scores the probe answers.
# Usage (repository root): replay.sh DB DEPLOYMENT 'SETTINGS_JSON' OUT_DIR [MAX_UPDATES]
set -euo pipefail
db=$1 deployment=$2 settings=$3 out=$4 max=${5:-100000}
whet=src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet
port=${WHET_PORT:-8831}
export WHET_ADMIN_KEY=whet_rm_replay_key
mkdir -p "$out"
data=$(mktemp -d /tmp/rm-replay.XXXXXX)
cp "$db" "$data/whetstone.db"
sqlite3 "$data/whetstone.db" "delete from reward_model_predictions; delete from reward_model_versions; delete from reward_models;
  delete from loop_iterations; delete from loops;"
source scripts/lib/serve-background.sh
serve_in_background models/whet-nano "$data" --dtype fp32 > "$out/server.log" 2>&1
api="http://127.0.0.1:$port/api/v1/deployments/$deployment/reward_model"
auth="Authorization: Bearer $WHET_ADMIN_KEY"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/run.txt"
echo "settings: $settings" | tee -a "$out/run.txt"
curl -fsS -H "$auth" -H 'Content-Type: application/json' -d "{\"base_model\":\"whet-nano\",\"settings\":$settings}" "$api" > "$out/create.json"
start=$(date +%s)
for ((i = 1; i <= max; i++)); do
  r=$(curl -fsS -X POST -H "$auth" "$api/update")
  [[ $r == *'"updated":true'* ]] || break
done
echo "updates: $((i - 1)) in $(( $(date +%s) - start )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run.txt"
sqlite3 -separator ' ' "$data/whetstone.db" "select p.predicted_by, p.kind, p.margin, p.correct, f.completion_id, f.rejected_completion_id
  from reward_model_predictions p join feedback f on f.id = p.feedback_id order by p.predicted_by, p.created_at, p.feedback_id" > "$out/predictions.txt"
curl -fsS -H "$auth" "$api/versions" > "$out/versions.json"
# The final version on the probe answers (probe.py), when PROBE names a score request.
if [[ -n ${PROBE:-} ]]; then curl -fsS -H "$auth" -H "Content-Type: application/json" -d @"$PROBE" "$api/score" > "$out/probe-scores.json"; fi
rm -rf "$data"
