"""What the reward model's prequential scores of labelled events (thumbs, ratings) follow: the mean
score of answers that ended their turn (finish "stop") and of answers cut at max_tokens ("length"),
the mean score of right and wrong sums, and the AUC of the score against the label (0.5: the
score orders up and down events at random). Usage: python3 margins.py DB OUT_DIR [FIRST_UPDATE]"""
import json, re, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]; first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
con = sqlite3.connect(db)
rows = [l.split() for l in open(f"{out}/predictions.txt") if l.strip()]
def right(req, text):
    a, op, b = re.match(r"What is (\d+) ([+-]) (\d+)\?", json.loads(req)[-1]["content"]).groups()
    m = re.findall(r"Answer:\s*(-?\d+)", text)
    return bool(m) and int(m[-1]) == (int(a) + int(b) if op == "+" else int(a) - int(b))
pts = []
for v, kind, margin, correct, cid, *_ in rows:
    if int(v) < first or kind not in ("thumbs_up", "thumbs_down", "rating"): continue
    req, ch = con.execute("select request_json, choices_json from served_completions where id=?", (cid,)).fetchone()
    ch = json.loads(ch)[0]
    up = kind == "thumbs_up" if kind != "rating" else (correct == "1") == (float(margin) > 0)   # a rating is up when right iff its score > 0
    pts.append((float(margin), up, ch.get("finish_reason"), right(req, ch["text"])))
def mean(xs): return sum(xs) / len(xs) if xs else float("nan")
for name, key in (("finish", lambda p: p[2]), ("right sum", lambda p: p[3]), ("label up", lambda p: p[1])):
    groups = {}
    for p in pts: groups.setdefault(key(p), []).append(p[0])
    print(f"mean score by {name}: " + ", ".join(f"{k}: {mean(v):+.3f} (n {len(v)})" for k, v in sorted(groups.items(), key=str)))
pos = [p[0] for p in pts if p[1]]; neg = [p[0] for p in pts if not p[1]]
auc = sum((x > y) + 0.5 * (x == y) for x in pos for y in neg) / (len(pos) * len(neg))
print(f"AUC of score vs label over {len(pts)} labelled events (updates >= {first}): {auc:.3f}")
