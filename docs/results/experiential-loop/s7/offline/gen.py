# Offline check data: whet-nano's corpus layout (= its own right answers) for the users' 2-3 digit sums,
# with the preamble line dropped ("nopre") or kept ("pre"); held-out questions drawn from another seed.
import json, random, sys
def add(a, b):
    s = ["Add digit by digit from the right."]; c = 0; r = 0; p = 1
    while a > 0 or b > 0 or c > 0:
        x, y = a % 10, b % 10; t = x + y + c
        step = f"{x} + {y} + {c} = {t}" if c > 0 else f"{x} + {y} = {t}"
        step += f", write {t % 10} carry 1." if t >= 10 else f", write {t}."
        s.append(step); r += t % 10 * p; c = t // 10; a //= 10; b //= 10; p *= 10
    return s, r
def sub(a, b):
    s = ["Subtract digit by digit from the right."]; bo = 0; r = 0; p = 1
    while a > 0:
        x = a % 10 - bo; y = b % 10; bo = 1 if x < y else 0; d = x + 10 * bo - y
        s.append(f"{x + 10} - {y} = {d}, borrow 1." if bo else f"{x} - {y} = {d}.")
        r += d * p; a //= 10; b //= 10; p *= 10
    return s, r
def draw(rng):
    digits = rng.randint(2, 3); mx = 10 ** digits
    a, b = rng.randrange(mx // 10, mx), rng.randrange(mx // 10, mx)
    if rng.random() < 0.5:
        if b > a: a, b = b, a
        return f"What is {a} - {b}?", *sub(a, b)
    return f"What is {a} + {b}?", *add(a, b)
def main(kind, n, seed):
    rng = random.Random(seed)
    for _ in range(n):
        q, steps, r = draw(rng)
        if kind == "nopre": steps = steps[1:]
        if kind == "q": print(json.dumps({"q": q, "expected": r})); continue
        print(json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": "\n".join(steps) + f"\nAnswer: {r}"}]}))
main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
