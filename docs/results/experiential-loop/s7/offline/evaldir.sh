# Serve one SFT run's data directory on port 8871, evaluate its final sampler checkpoint greedily on the held-out questions.
set -e
dir=$1; port=${PORT:-8871}
run=$(ls $dir/service/checkpoints | head -1)
key=$(.data/whet-bin/whet keys create --data $dir/service --tenant local --name eval | sed -n 's/^secret (shown once): //p')
WHET_ADMIN_KEY=x nice -n 10 .data/whet-bin/whet serve --models models/whet-nano --data $dir/service --urls http://127.0.0.1:$port --dtype fp32 > $dir/serve.log 2>&1 &
pid=$!
for i in $(seq 120); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 1; done
python3 .data/offline/evalq.py http://127.0.0.1:$port $key whet://$run/sampler_weights/final || true
kill $pid; wait $pid 2>/dev/null || true
