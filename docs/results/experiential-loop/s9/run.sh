#!/usr/bin/env bash
# One main-job run with its load, commit and exit status around its output: s9/run.sh TAG [ARGS for main-job.sh]
# (run from the repository root). Writes docs/results/experiential-loop/s9/main-job-TAG.txt.
set -uo pipefail
tag=$1; shift
out=docs/results/experiential-loop/s9/main-job-$tag.txt
{
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)'); start $(date -u +%H:%M:%S) UTC; load before: $(uptime)"
  start=$(date +%s)
  WHET_PORT=${WHET_PORT:-8811} nice -n 10 bash scripts/main-job.sh "$@"
  rc=$?
  echo "exit $rc in $(( $(date +%s) - start )) s; load after: $(uptime)"
} > "$out" 2>&1
tail -3 "$out"
