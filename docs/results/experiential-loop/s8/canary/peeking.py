"""How often the within-user canary promotes a candidate that is worse, when its bound is checked
after every event (as WithinUserCanary.Decide is) against checked once at the end.

The rule re-implemented from src/Whetstone.Service/Loops/WithinUserCanary.cs: per user with events on
both arms D = mean(candidate) - mean(stable); d = mean D; se = sqrt(max(s2_D, floor)/n), floor = mean over
users of 0.05*(1/k_c + 1/k_s); t = Student quantile at the tail of z=2 on n-1 df; promote when
d - t*se >= -0.05. Simulated users: 12, each with a base satisfaction p_u ~ U(0.3, 0.8); an event is
Bernoulli(p_u) on the stable arm and Bernoulli(p_u + delta) on the candidate; each event picks a user
and an arm at random (the request split). 300 events per canary (about the main job's 3 minutes).
Usage: python3 peeking.py [trials]"""
import random, sys, statistics
from math import sqrt
from math import gamma, pi
from statistics import NormalDist
from functools import lru_cache

def t_pdf(x, df): return gamma((df + 1) / 2) / (sqrt(df * pi) * gamma(df / 2)) * (1 + x * x / df) ** (-(df + 1) / 2)

def t_upper_tail(x, df, steps=4000):
    """P(T > x) for x >= 0: 0.5 minus Simpson's rule of the density on [0, x]."""
    h = x / steps
    s = t_pdf(0, df) + t_pdf(x, df) + sum((4 if i % 2 else 2) * t_pdf(i * h, df) for i in range(1, steps))
    return 0.5 - s * h / 3

@lru_cache(maxsize=None)
def t_quantile_at_z_tail(z, df):
    """The t whose upper tail on df degrees of freedom equals the normal's beyond z (StudentT.QuantileLike)."""
    tail, lo, hi = 1 - NormalDist().cdf(z), 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_upper_tail(mid, df) > tail else (lo, mid)
    return (lo + hi) / 2

def decide(events, users, z=2.0, tol=0.05, min_events=10, min_users=5):
    nc = sum(1 for e in events if e[1] == 'c'); ns = len(events) - nc
    if nc < min_events or ns < min_events: return None
    per = {}
    for u, arm, s in events: per.setdefault(u, {'c': [], 's': []})[arm].append(s)
    pairs = [(v['c'], v['s']) for v in per.values() if v['c'] and v['s']]
    n = len(pairs)
    if n < min_users: return None
    D = [statistics.mean(c) - statistics.mean(s) for c, s in pairs]
    d = statistics.mean(D); spread = statistics.variance(D)
    floor = statistics.mean(0.05 * (1 / len(c) + 1 / len(s)) for c, s in pairs)
    se = sqrt(max(spread, floor) / n); q = t_quantile_at_z_tail(z, n - 1)
    if d - q * se >= -tol: return 'promote'
    if d + q * se < -tol: return 'rollback'
    return None

def trial(delta, rng, events_total=300, users=12):
    p = [rng.uniform(0.3, 0.8) for _ in range(users)]
    events, first = [], None
    for _ in range(events_total):
        u = rng.randrange(users); arm = 'c' if rng.random() < 0.5 else 's'
        pu = min(1.0, max(0.0, p[u] + (delta if arm == 'c' else 0.0)))
        events.append((u, arm, 1.0 if rng.random() < pu else 0.0))
        if first is None: first = decide(events, users)
    return first, decide(events, users)

trials = int(sys.argv[1]) if len(sys.argv) > 1 else 400
rng = random.Random(1)
for delta in (-0.05, -0.10, 0.0, 0.07):
    cont = once = 0
    for _ in range(trials):
        a, b = trial(delta, rng)
        cont += a == 'promote'; once += b == 'promote'
    print(f"true difference {delta:+.2f}: promoted when checked after every event {cont / trials:.3f}, "
          f"checked once after 300 events {once / trials:.3f} ({trials} canaries)")
