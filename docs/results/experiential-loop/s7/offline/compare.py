# Paired comparison of two `whet simulate-users --no-feedback --out` files (same users, questions and
# seeds): mean hidden satisfaction of each, the mean per-answer difference (b - a) and its standard
# error sd/sqrt(n); and for greedy held-out answer files (evalq.py): right, closing line, going on.
import json, math, sys
def load(p): return [json.loads(l) for l in open(p)]
def sims(a, b):
    A, B = load(a), load(b)
    assert [(x["User"], x["Question"]) for x in A] == [(x["User"], x["Question"]) for x in B], "not the same users and questions"
    d = [y["Satisfaction"] - x["Satisfaction"] for x, y in zip(A, B)]
    m = sum(d) / len(d); sd = math.sqrt(sum((v - m) ** 2 for v in d) / (len(d) - 1))
    close = lambda R: sum("So this is right." in r["Answer"][r["Answer"].find("Answer:"):] for r in R if "Answer:" in r["Answer"])
    print(f"n {len(d)}: a {sum(x['Satisfaction'] for x in A)/len(A):.3f}, b {sum(y['Satisfaction'] for y in B)/len(B):.3f}, "
          f"b - a {m:+.3f} (se {sd/math.sqrt(len(d)):.3f}); closing line a {close(A)}, b {close(B)}")
def greedy(p):
    R = load(p); right = close = on = fin = 0
    for r in R:
        t = r["answer"]; at = t.rfind("Answer:")
        ans = "".join(c for c in t[at + 7:].strip().split("\n")[0] if c.isdigit() or c == "-") if at >= 0 else None
        right += ans == str(r["expected"])
        close += "So this is right." in t
        tail = t[t.find("Answer:"):].split("\n")[1:] if at >= 0 else []
        on += any(l.strip() and l.strip() != "So this is right." for l in tail)   # wrote more than the closing line after its Answer: line
        fin += r["finish"] == "stop"
    print(f"{p}: right {right}/{len(R)}, closing line {close}/{len(R)}, other text after the Answer: line {on}/{len(R)}, ended its turn {fin}/{len(R)}")
if sys.argv[1] == "greedy": [greedy(p) for p in sys.argv[2:]]
else: sims(sys.argv[1], sys.argv[2])
