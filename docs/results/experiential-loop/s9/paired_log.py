"""paired-arms.py for a run cut off before it wrote rounds.jsonl: reads the per-round lines of its log.txt
("arm X round N (drifted): satisfaction S, vV, ...") and prints the same paired differences over the
rounds every arm reached. Usage: python3 paired_log.py OUT_DIR/log.txt"""
import re, sys
from statistics import mean, stdev
rounds = {}
for line in open(sys.argv[1]):
    m = re.match(r"arm (\w) round +(\d+)( \(drifted\))?: satisfaction ([\d.]+), v(\d+)", line)
    if m: rounds.setdefault(int(m[2]), {})[m[1]] = (float(m[4]), bool(m[3]), int(m[5]))
arms = sorted({a for r in rounds.values() for a in r})
common = sorted(r for r, v in rounds.items() if len(v) == len(arms))
print(f"{len(common)} rounds reached by every arm ({', '.join(arms)}); versions at the last: " +
      ", ".join(f"{a} v{rounds[common[-1]][a][2]}" for a in arms))
for drifted in (False, True):
    part = [rounds[r] for r in common if rounds[r][arms[0]][1] == drifted]
    if not part: continue
    out = [f"{a} {mean(p[a][0] for p in part):.3f}" for a in arms]
    for a in arms[1:]:
        d = [p[a][0] - p['a'][0] for p in part]
        out.append(f"{a}-a {mean(d):+.3f} (se {stdev(d) / len(d) ** 0.5:.3f})")
    print(f"{'after' if drifted else 'before'} the drift ({len(part)} rounds): " + ", ".join(out))
