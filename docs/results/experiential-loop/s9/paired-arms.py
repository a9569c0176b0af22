"""Paired differences between arms of a three-arm run: per round, arm X minus arm a (same users,
questions and seeds), mean over the rounds before and after the drift and its se across rounds
(sd/sqrt(rounds)). Usage: python3 paired-arms.py OUT_DIR/rounds.jsonl"""
import json, sys
from statistics import mean, stdev
rows = [json.loads(l) for l in open(sys.argv[1])]
for drifted in (False, True):
    part = [r for r in rows if r.get('drifted') == drifted]
    if not part: continue
    line = [f"{'after' if drifted else 'before'} the drift ({len(part)} rounds):"]
    for arm in ('a', 'b', 'c'):
        key = f'satisfaction_{arm}'
        if key in part[0]: line.append(f"{arm} {mean(r[key] for r in part):.3f}")
    for arm in ('b', 'c'):
        key = f'satisfaction_{arm}'
        if key not in part[0] or 'satisfaction_a' not in part[0]: continue
        d = [r[key] - r['satisfaction_a'] for r in part]
        line.append(f"{arm}-a {mean(d):+.3f} (se {stdev(d) / len(d) ** 0.5:.3f})")
    if 'satisfaction_b' in part[0] and 'satisfaction_c' in part[0]:
        d = [r['satisfaction_c'] - r['satisfaction_b'] for r in part]
        line.append(f"c-b {mean(d):+.3f} (se {stdev(d) / len(d) ** 0.5:.3f})")
    print(line[0], ', '.join(line[1:]))
