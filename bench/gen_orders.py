"""Generate N orders as CSV on stdout, simulated from a BG/NBD process so a fit has a
real optimum: each customer buys at a weekly Poisson rate λ ~ Gamma(0.25, 1/4) and drops
out after each purchase with probability p ~ Beta(0.8, 2.4); order values are Gamma.
Usage: python3 bench/gen_orders.py N [SEED] [customers] > orders.csv
With the third argument `customers`, N counts customers (each with all their orders)
instead of orders."""
import random
import sys
from datetime import datetime, timedelta

n = int(sys.argv[1])
by_customers = len(sys.argv) > 3 and sys.argv[3] == "customers"
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
start = datetime(2025, 1, 1)
weeks = 78.0
out = sys.stdout
out.write("customer_id,order_id,at,amount,currency\n")
written, c = 0, 0
while (c if by_customers else written) < n:
    c += 1
    lam = rng.gammavariate(0.25, 1 / 4.0) + 1e-6
    p = rng.betavariate(0.8, 2.4)
    spend = rng.gammavariate(6.0, 1.0) * 8
    t = rng.uniform(0, weeks * 0.9)  # first purchase
    k = 0
    while t < weeks and (by_customers or written < n):
        amount = max(1.0, rng.gammavariate(6.0, spend / 6.0))
        at = start + timedelta(weeks=t)
        out.write(f"c{c},o{c}-{k},{at:%Y-%m-%dT%H:%M:%SZ},{amount:.2f},EUR\n")
        written += 1
        k += 1
        if rng.random() < p:
            break
        t += rng.expovariate(lam)
