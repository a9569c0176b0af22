#!/usr/bin/env bash
# Runs every test project (restore and build included) and prints one summary line,
# "N passed, N failed, N skipped", summed over all of them. A test of a path this machine cannot
# run (a CPU feature it lacks, an opted-out database) is a real skip and is counted as one.
# Exits non-zero if anything failed or no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."
# The metadata store tests run against a real PostgreSQL: start a throwaway one unless the
# caller gave one (WHET_TEST_POSTGRES) or opted out (WHET_SKIP_POSTGRES=1).
if [ -z "${WHET_TEST_POSTGRES:-}" ] && [ -z "${WHET_SKIP_POSTGRES:-}" ]; then
  eval "$(bash scripts/start-postgres.sh)" || { echo "could not start PostgreSQL for the tests (set WHET_SKIP_POSTGRES=1 to skip them)" >&2; exit 1; }
fi
out=$(mktemp)
dotnet test Whetstone.slnx --nologo "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
# dotnet test prints per project: "Passed!  - Failed:     0, Passed:    24, Skipped:     0, ..."
read -r passed failed skipped < <(grep -E '^(Passed|Failed)! +- Failed: ' "$out" \
  | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p += $1; f += $2; s += $3} END {print p + 0, f + 0, s + 0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
