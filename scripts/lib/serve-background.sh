# Sourced by the demo scripts: starts `whet serve` in the background on 127.0.0.1:$port with the
# given model and data directory, stops it when the script exits, and returns once /healthz
# answers (or fails if the server exits first). Needs $whet, $port and WHET_ADMIN_KEY set; any
# further arguments go to `whet serve` (e.g. --dtype fp32).
serve_in_background() {
  local model=$1 data=$2
  shift 2
  "$whet" serve --models "$model" --data "$data" --urls "http://127.0.0.1:$port" "$@" &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
  # 120 s: start-up is seconds on an idle machine, but several times that on a loaded one.
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { echo "whet serve exited" >&2; exit 1; }
    sleep 0.2
  done
  echo "whet serve did not answer /healthz within 120 s" >&2
  exit 1
}
