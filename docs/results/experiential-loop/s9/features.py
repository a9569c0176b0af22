"""What the simulated users' feedback says, and how much of it any reward model could predict.

Reads a loop experiment's SQLite database (served completions and feedback, the text included)
and, for one deployment's stream in the order the reward model consumed it (created_at, id):
  - the share of each kind and its base rate (majority-class prequential accuracy);
  - ties: preferences whose two answers are the same text (a score cannot order them);
  - a prequential ("predict, then learn") online logistic / Bradley-Terry model on features a
    perfect reader of the text would have (right sum, closing line, "Answer:" line, carry/borrow
    words, topic): the ceiling for a reward model that sees only (prompt, answer);
  - the same with the hidden user id one-hot added (what the label depends on that the text does
    not show).
Usage: python3 features.py DB DEPLOYMENT_PREFIX [FEATURE_TO_LEAVE_OUT ...]
"""
import json, math, random, re, sqlite3, sys
from collections import Counter, defaultdict

db, prefix, drop = sys.argv[1], sys.argv[2], set(sys.argv[3:])
con = sqlite3.connect(db)
rows = con.execute("""select f.id, f.kind, f.rating, f.correction, f.rejected_completion_id, s.end_user, s.request_json, s.choices_json
  from feedback f join served_completions s on s.id = f.completion_id
  where s.deployment like ? order by f.created_at, f.id""", (prefix + '@%',)).fetchall()
text_of = {}
def answer_text(cid):
    if cid not in text_of:
        r = con.execute("select choices_json from served_completions where id=?", (cid,)).fetchone()
        text_of[cid] = json.loads(r[0])[0]["text"] if r else None
    return text_of[cid]

def question(req):
    q = json.loads(req)[-1]["content"]
    m = re.match(r"What is (\d+) ([+-]) (\d+)\?", q)
    a, op, b = int(m.group(1)), m.group(2), int(m.group(3))
    return q, op, (a + b if op == '+' else a - b)

def extract(ans):
    m = re.findall(r"Answer:\s*(-?\d+)", ans)
    return int(m[-1]) if m else None

SIGN = "So this is right."
def signs_off(ans):
    at = ans.rfind("Answer:")
    return at >= 0 and ans.find("\n" + SIGN, at) >= 0

def features(op, expected, ans):
    return {k: v for k, v in all_features(op, expected, ans).items() if k not in drop}

def all_features(op, expected, ans):
    return {"bias": 1.0, "right": float(extract(ans) == expected), "signoff": float(signs_off(ans)),
            "answer_line": float("Answer:" in ans), "carry": float("carry" in ans.lower()), "borrow": float("borrow" in ans.lower()),
            "plus": float(op == '+'), "after_answer": float(len(ans[ans.rfind("Answer:"):].split("\n")) > 1 if "Answer:" in ans else 0)}

events = []
for fid, kind, rating, corr, rej, user, req, choices in rows:
    q, op, expected = question(req)
    ans = json.loads(choices)[0]["text"]
    e = {"id": fid, "kind": kind, "user": user or "(anonymous)", "stop": json.loads(choices)[0].get("finish_reason") == "stop"}
    if kind in ("thumbs_up", "thumbs_down", "rating"):
        label = 1.0 if kind == "thumbs_up" else 0.0 if kind == "thumbs_down" else (rating - 1) / 4
        e.update(x=features(op, expected, ans), label=label, pair=False, direction=label != 0.5)
    elif kind == "correction":
        e.update(c=features(op, expected, corr), r=features(op, expected, ans), pair=True, tie=corr.strip() == ans.strip(), direction=True)
    elif kind == "preference":
        other = answer_text(rej)
        e.update(c=features(op, expected, ans), r=features(op, expected, other), pair=True, tie=ans == other, direction=True)
    events.append(e)

print(f"{len(events)} events on {prefix}: " + ", ".join(f"{k} {n}" for k, n in Counter(e['kind'] for e in events).most_common()))
lab = [e for e in events if not e["pair"] and e["direction"]]
ups = sum(e["label"] > 0.5 for e in lab)
print(f"labelled with a direction: {len(lab)}, positive {ups} ({ups/len(lab):.3f}); majority-class accuracy {max(ups, len(lab)-ups)/len(lab):.3f}")
for kind in ("correction", "preference"):
    ps = [e for e in events if e["kind"] == kind]
    if ps: print(f"{kind}: {len(ps)}, chosen text == rejected text in {sum(e['tie'] for e in ps)}")
stopped = sum((e["label"] > 0.5) == e["stop"] for e in lab)
print(f"rule 'up exactly when the answer ended its turn (finish stop, not cut at max_tokens)': {stopped}/{len(lab)} = {stopped/len(lab):.3f}")
# How the labels split by visible features (thumbs only)
th = [e for e in events if e["kind"] in ("thumbs_up", "thumbs_down")]
for f in ("right", "signoff", "carry", "borrow", "plus"):
    for v in (1.0, 0.0):
        sub = [e for e in th if e["x"].get(f) == v]
        if sub: print(f"  thumbs with {f}={int(v)}: {len(sub)}, up {sum(e['label'] for e in sub)/len(sub):.3f}")

def prequential(use_user, lr=0.1, seed=0):
    w = defaultdict(float)
    def score(x, user):
        s = sum(w[k] * v for k, v in x.items())
        if use_user: s += w["u:" + user]
        return s
    def add(x, user, g):
        for k, v in x.items(): w[k] -= lr * g * v
        if use_user: w["u:" + user] -= lr * g
    by_kind = defaultdict(lambda: [0, 0])
    for e in events:
        if not e["direction"]: continue
        if e["pair"]:
            m = score(e["c"], e["user"]) - score(e["r"], e["user"])
            if not e["tie"]:
                by_kind[e["kind"]][0] += 1; by_kind[e["kind"]][1] += m > 0
            g = -1 / (1 + math.exp(m))      # d softplus(-m) / dm
            diff = {k: e["c"].get(k, 0) - e["r"].get(k, 0) for k in set(e["c"]) | set(e["r"])}
            for k, v in diff.items(): w[k] -= lr * g * v
        else:
            s = score(e["x"], e["user"])
            by_kind[e["kind"]][0] += 1; by_kind[e["kind"]][1] += (s > 0) == (e["label"] > 0.5)
            g = 1 / (1 + math.exp(-s)) - e["label"]
            add(e["x"], e["user"], g)
    n = sum(v[0] for v in by_kind.values()); c = sum(v[1] for v in by_kind.values())
    p = c / n
    print(f"prequential online logistic on text features{' + user id' if use_user else ''}: {c}/{n} = {p:.3f} (se {math.sqrt(p*(1-p)/n):.3f}); " +
          ", ".join(f"{k} {v[1]}/{v[0]}={v[1]/v[0]:.2f}" for k, v in sorted(by_kind.items())))
    return w

w = prequential(False)
print("  weights:", {k: round(v, 2) for k, v in w.items() if not k.startswith("u:")})
prequential(True)
if drop: print("left out:", sorted(drop))
