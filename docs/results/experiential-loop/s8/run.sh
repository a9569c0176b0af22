#!/usr/bin/env bash
# usage: run.sh TAG [main-job args...]: one main job with load before/after, log in s8/
tag=$1; shift
out=docs/results/experiential-loop/s8/main-job-$tag.txt
{ echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD) args: $*"; echo "# load before: $(uptime)"; } > $out
start=$(date +%s)
WHET_PORT=8801 nice -n 10 bash scripts/main-job.sh "$@" >> $out 2>&1; rc=$?
{ echo "# exit $rc in $(( $(date +%s) - start )) s; load after: $(uptime)"; } >> $out
