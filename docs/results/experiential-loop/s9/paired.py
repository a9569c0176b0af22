"""Paired difference in prequential accuracy of two replays of the same stream (replay.sh), event
by event: the micro-batches are cut the same way whatever the settings, so line i of both
predictions.txt is the same event. Tied pairs (|margin| < 1e-4 in A) are left out. Usage: paired.py A B"""
import math, sys
a = [l.split() for l in open(f"{sys.argv[1]}/predictions.txt")]
b = [l.split() for l in open(f"{sys.argv[2]}/predictions.txt")]
assert len(a) == len(b) and all(x[4] == y[4] and x[1] == y[1] for x, y in zip(a, b)), "not the same events"
d = [int(y[3]) - int(x[3]) for x, y in zip(a, b) if not (x[1] in ("correction", "preference") and abs(float(x[2])) < 1e-4)]
n = len(d); m = sum(d) / n; sd = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1))
print(f"{sys.argv[2]} minus {sys.argv[1]}: {m:+.3f} (se {sd / math.sqrt(n):.3f}) over {n} events")
