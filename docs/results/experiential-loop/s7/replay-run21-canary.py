"""Replays run 21's canary (sixth session) from that run's SQLite store through both canary statistics.
Usage: python3 replay-run21-canary.py /tmp/loop-data-run21-rl-arith-g8-t1.3-lr1e-2/whetstone.db
Opens the store read-only. The events: feedback created during the canary (from the iteration's
canary_started_unix_ms for canary_seconds) on answers with an arm, the candidate arm's only from
its version; satisfaction as LoopIterationJob.Satisfaction. Written independently of the C#."""
import json, math, sqlite3, statistics as st, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
metrics, version = db.execute("SELECT metrics_json, deployment_version FROM loop_iterations WHERE iteration = 1").fetchone()
m = json.loads(metrics)
start = int(m["canary_started_unix_ms"]) * 1000                     # the store keeps microseconds
end = start + int(m["canary_seconds"] * 1e6) + 1
rows = db.execute("""SELECT f.kind, f.rating, f.created_at, c.arm, c.end_user, c.deployment FROM feedback f
                     JOIN served_completions c ON c.id = f.completion_id AND c.tenant = f.tenant ORDER BY f.created_at, f.id""").fetchall()

def score(kind, rating):
    return 1.0 if kind in ("thumbs_up", "preference") else ((rating or 1) - 1) / 4 if kind == "rating" else 0.0

def t_like(z, df):   # Cornish-Fisher, as StudentT.QuantileLike
    z3, z5, z7, z9 = z**3, z**5, z**7, z**9
    g = [(z3 + z) / 4, (5*z5 + 16*z3 + 3*z) / 96, (3*z7 + 19*z5 + 17*z3 - 15*z) / 384, (79*z9 + 776*z7 + 1482*z5 - 1920*z3 - 945*z) / 92160]
    return z + sum(gi / df**(i + 1) for i, gi in enumerate(g))

during = [(arm, user, score(k, r)) for k, r, t, arm, user, dep in rows
          if start <= t < end and arm is not None and (arm == "stable" or dep.endswith(f"@v{version}"))]
cand = [s for a, u, s in during if a == "candidate"]; stab = [s for a, u, s in during if a == "stable"]
z, tol = 2.0, 0.05
d = st.mean(cand) - st.mean(stab)
se = math.sqrt(max(st.variance(cand), 0.05) / len(cand) + max(st.variance(stab), 0.05) / len(stab))
print(f"events: candidate {st.mean(cand):.4f} over {len(cand)} vs stable {st.mean(stab):.4f} over {len(stab)}; "
      f"d {d:.3f}, bound [{d - z*se:.3f}, {d + z*se:.3f}] against -{tol}")

by_user = {}
for a, u, s in during: by_user.setdefault(u, {}).setdefault(a, []).append(s)
pairs = [v for v in by_user.values() if "candidate" in v and "stable" in v]
print(f"within users: {len(by_user)} users gave feedback, {len(pairs)} on both arms (the split was per user)")
if len(pairs) >= 4:
    D = [st.mean(v["candidate"]) - st.mean(v["stable"]) for v in pairs]
    floor = st.mean(0.05 * (1 / len(v["candidate"]) + 1 / len(v["stable"])) for v in pairs)
    se = math.sqrt(max(st.variance(D), floor) / len(D)); t = t_like(z, len(D) - 1)
    print(f"  d {st.mean(D):.3f}, bound [{st.mean(D) - t*se:.3f}, {st.mean(D) + t*se:.3f}]")
else:
    print(f"  fewer than 5 users on both arms: waits, rolled back at the deadline as undecided (not 'surely worse')")

# What the per-user arms changed: each user's feedback during the canary against their own before it (all of it, on v1).
before = {}
for k, r, t, arm, user, dep in rows:
    if t < start: before.setdefault(user, []).append(score(k, r))
for arm in ("candidate", "stable"):
    users = [u for u, v in by_user.items() if list(v) == [arm] and u in before]
    D = [st.mean(by_user[u][arm]) - st.mean(before[u]) for u in users]
    print(f"{arm} arm's {len(users)} users: before {st.mean([x for u in users for x in before[u]]):.3f}, "
          f"during {st.mean([x for u in users for x in by_user[u][arm]]):.3f}; per-user change {st.mean(D):+.3f} (sd {st.stdev(D):.3f})")
