#!/usr/bin/env bash
# usage (repository root): run-main-job.sh TAG: one `bash scripts/main-job.sh` (nice 10, port 8801)
# with the commit, load before/after and exit status around its log, then the demo reward model's
# prequential accuracy from the main job's store (.data/loop), ties left out (prequential.py).
tag=$1; shift
s9=docs/results/experiential-loop/s9
out=$s9/main-job-$tag.txt
{ echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) args: $*"; echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > $out
start=$(date +%s)
WHET_PORT=8801 nice -n 10 bash scripts/main-job.sh "$@" >> $out 2>&1; rc=$?
{ echo "# exit $rc in $(( $(date +%s) - start )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"; } >> $out
dep=$(grep -o 'deployment demo-[0-9a-f]*' $out | head -1 | cut -d' ' -f2)
mkdir -p /tmp/rm-main-job-$tag
sqlite3 -separator ' ' .data/loop/whetstone.db "select p.predicted_by, p.kind, p.margin, p.correct, f.completion_id from reward_model_predictions p
  join feedback f on f.id = p.feedback_id where p.deployment = '$dep' order by p.predicted_by, p.created_at, p.feedback_id" > /tmp/rm-main-job-$tag/predictions.txt
{ echo "# reward model of $dep (prequential.py, windows of 100)"; python3 $s9/prequential.py /tmp/rm-main-job-$tag 100; } | sed 's/^/# /' >> $out
