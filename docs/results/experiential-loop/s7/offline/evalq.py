# Greedy answers of served models on held-out questions: fraction opening with the method sentence,
# right answers, finished within max_tokens (finish_reason "stop").
import json, sys, urllib.request, concurrent.futures as cf
url, key, models = sys.argv[1], sys.argv[2], sys.argv[3:]
qs = [json.loads(l) for l in open(".data/offline/heldout-q.jsonl")]
def ask(model, q):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": q["q"]}], "max_tokens": 64, "temperature": 0}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", body, {"Content-Type": "application/json", "Authorization": "Bearer " + key})
    r = json.load(urllib.request.urlopen(req, timeout=600))
    return r["choices"][0]["message"]["content"], r["choices"][0]["finish_reason"], r.get("usage", {}).get("completion_tokens")
for m in models:
    with cf.ThreadPoolExecutor(8) as ex: res = list(ex.map(lambda q: ask(m, q), qs))
    pre = right = fin = 0; toks = []
    for q, (t, f, n) in zip(qs, res):
        first = t.strip().split("\n")[0]
        pre += first != "" and not any(c.isdigit() for c in first)
        at = t.rfind("Answer:")
        ans = "".join(c for c in t[at + 7:].strip().split("\n")[0] if c.isdigit() or c == "-") if at >= 0 else None
        right += ans == str(q["expected"]); fin += f == "stop"; toks.append(n or 0)
    print(f"{m}: preamble {pre}/{len(qs)}, right {right}/{len(qs)}, finished {fin}/{len(qs)}, mean tokens {sum(toks)/len(toks):.1f}", flush=True)
    with open(".data/offline/answers-" + m.replace("/", "_").replace(":", "") + ".jsonl", "w") as o:
        for q, (t, f, n) in zip(qs, res): o.write(json.dumps({"q": q["q"], "expected": q["expected"], "answer": t, "finish": f, "tokens": n}) + "\n")
