"""Prequential accuracy of a replay (replay.sh's predictions.txt): overall, per kind, per window
of events, with binomial se. A pair whose |margin| is under 1e-4 has two identical sequences (exactly 0, or a rounding apart when
the two were scored in chunks of different padding)
(two samples of the same answer): no score can order them, so it is counted apart as a tie and
left out of the "without ties" figures (the service counts it wrong: margin > 0 is required).
Usage: python3 prequential.py OUT_DIR [WINDOW]"""
import math, sys
from collections import defaultdict
out = sys.argv[1]; window = int(sys.argv[2]) if len(sys.argv) > 2 else 400
rows = [l.split() for l in open(f"{out}/predictions.txt") if l.strip()]
preds = [(int(v), kind, float(m), c == "1") for v, kind, m, c, *_ in rows]
def acc(xs):
    n = len(xs); k = sum(xs)
    return f"{k}/{n} = {k/n:.3f} (se {math.sqrt((k/n)*(1-k/n)/n):.3f})" if n else "none"
pairs = ("correction", "preference")
ties = [p for p in preds if p[1] in pairs and abs(p[2]) < 1e-4]
kept = [p for p in preds if not (p[1] in pairs and abs(p[2]) < 1e-4)]
print(f"all, as the service counts: {acc([p[3] for p in preds])}")
print(f"without the {len(ties)} tied pairs: {acc([p[3] for p in kept])}")
by = defaultdict(list)
for p in kept: by[p[1]].append(p[3])
for k in sorted(by): print(f"  {k}: {acc(by[k])}")
for i in range(0, len(kept), window):
    part = kept[i:i + window]
    kinds = defaultdict(list)
    for p in part: kinds[p[1]].append(p[3])
    print(f"  events {i + 1}-{i + len(part)}: {acc([p[3] for p in part])}; " + ", ".join(f"{k} {sum(v)/len(v):.2f}" for k, v in sorted(kinds.items())))
