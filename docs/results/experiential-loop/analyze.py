"""Reads a loop run's SQLite metadata (read-only) and prints: /v1 latency p50/p99 while a loop
iteration trains or gates vs otherwise, each iteration's lineage, outcome and CPU seconds, and the
reward model's prequential accuracy per version. Usage: python3 analyze.py .data/loop/whetstone.db"""
import json, sqlite3, sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

iterations = db.execute("SELECT iteration, started_at, finished_at, outcome, reason, rm_version, policy_checkpoint, deployment_version, "
                        "feedback_ids_json, metrics_json FROM loop_iterations ORDER BY iteration").fetchall()
busy = []
for it, start, end, outcome, reason, rm, policy, version, ids, metrics in iterations:
    m = json.loads(metrics or "{}")
    canary = m.get("canary_started_unix_ms")
    # training + gating: from the start until the canary began (or the iteration ended)
    busy.append((start, int(canary * 1000) if canary else (end or 1 << 62)))
    print(f"iteration {it}: {outcome} | {len(json.loads(ids))} feedback events -> {rm} -> {policy} -> v{version} | "
          f"train CPU {m.get('train_cpu_seconds', float('nan')):.1f}s wall {m.get('train_wall_seconds', float('nan')):.1f}s, "
          f"gate CPU {m.get('gate_cpu_seconds', float('nan')):.1f}s | {reason}")

rows = db.execute("SELECT created_at, latency_seconds FROM served_completions").fetchall()
during = [l for t, l in rows if any(s <= t <= e for s, e in busy)]
idle = [l for t, l in rows if not any(s <= t <= e for s, e in busy)]
print(f"/v1 latency while training or gating: n={len(during)} p50={pct(during, 50):.3f}s p99={pct(during, 99):.3f}s")
print(f"/v1 latency otherwise:                n={len(idle)} p50={pct(idle, 50):.3f}s p99={pct(idle, 99):.3f}s")

for version, correct, n in db.execute("SELECT predicted_by, SUM(CASE WHEN correct THEN 1 ELSE 0 END), COUNT(*) FROM reward_model_predictions "
                                      "GROUP BY predicted_by ORDER BY predicted_by"):
    print(f"reward model v{version} predicted {n} new events before training on them: accuracy {correct / n:.3f}")
