# (s7/offline/eval-mainjob.sh with the eighth session's paths: usage eval-mainjob.sh LOG TAG [CANDIDATE])
# Serve the main job's store again and measure v1 and the promoted (or last candidate) policy offline:
# 12 users x 8 questions, same seeds, no drift, no feedback; greedy on the 40 held-out questions.
set -e
whet=src/Whetstone.Cli/bin/Release/net10.0/linux-x64/whet
log=$1; tag=$2; port=8882
out=docs/results/experiential-loop/s8
v1=$(grep -o 'whet://[^ ]*/sampler_weights/v1' $log | head -1)
cand=${3:-}
[ -n "$cand" ] || cand=$(grep -E '^iteration [0-9]+: promoted' $log | grep -o 'whet://[^ ]*' | tail -1)
[ -n "$cand" ] || cand=$(grep -E '^iteration [0-9]+:' $log | grep -o 'whet://[^ ]*/loop-it[0-9]*-step[0-9]*' | tail -1)
echo "v1 $v1 candidate $cand"
export WHET_ADMIN_KEY=whet_local_demo_key
nice -n 10 $whet serve --models models/whet-nano --data .data/loop --urls http://127.0.0.1:$port --dtype fp32 > .data/offline/serve-$tag.log 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for i in $(seq 240); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.5; done
uptime
dep=$(grep -o 'deployment demo-[0-9a-f]*' $log | head -1 | cut -d' ' -f2)
curl -fs -H "Authorization: Bearer $WHET_ADMIN_KEY" http://127.0.0.1:$port/api/v1/deployments/$dep/reward_model/corrections | python3 -c "
import json,sys; c=json.load(sys.stdin)['corrections']; ends=[x['correction_tokens'][-1] for x in c]
print(len(c), 'corrections; last token counts', {e: ends.count(e) for e in set(ends)}, '; with two 765s at the end', sum(x['correction_tokens'][-2:]==[765,765] for x in c))" || echo "corrections: no answer"
loop=$(grep -o 'loop loop_[0-9a-f]*' $log | head -1 | cut -d' ' -f2)
# Each iteration's training metrics (corrections, SFT loss and anchor NLL per token at the first and last step, KL).
curl -fs -H "Authorization: Bearer $WHET_ADMIN_KEY" http://127.0.0.1:$port/api/v1/loops/$loop/lineage | python3 -c "
import json,sys
for it in json.load(sys.stdin)['iterations']:
    m=it.get('metrics') or {}; keep=lambda k: not k.startswith('step') or k.startswith(('step0_','step7_'))
    print('iteration', it['iteration'], it.get('outcome') or it.get('stage'), {k: round(v,3) for k,v in m.items() if keep(k) and not k.endswith('_datums')})" || echo "lineage: no answer"
sims=()
for m in "$v1" "$cand"; do
  name=$(basename $m)
  nice -n 10 $whet simulate-users --url http://127.0.0.1:$port --api-key $WHET_ADMIN_KEY --model $m --users 12 --rounds 8 --drift-at 100 --no-feedback --seed 1 --out $out/main-job-$tag-offline-$name.jsonl > /dev/null &
  sims+=($!)
done
wait "${sims[@]}"
python3 .data/offline/evalq.py http://127.0.0.1:$port $WHET_ADMIN_KEY $v1 $cand
cp .data/offline/answers-$(echo $cand | sed "s/[/]/_/g; s/://g").jsonl docs/results/experiential-loop/s8/offline/answers-mainjob-$tag-$(basename $cand).jsonl
python3 $out/offline/../../s7/offline/compare.py $out/main-job-$tag-offline-v1.jsonl $out/main-job-$tag-offline-$(basename $cand).jsonl
python3 $out/offline/../../s7/offline/compare.py greedy .data/offline/answers-$(echo $v1 | sed "s/[/]/_/g; s/://g").jsonl $out/offline/answers-mainjob-$tag-$(basename $cand).jsonl
uptime
