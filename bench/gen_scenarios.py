#!/usr/bin/env python3
"""Write engine-benchmark scenarios as NDJSON: {"request": ..., "customer": ... | null}.

The policy's own example cases (the seed scenarios S1-S6) come first, then a deterministic
spread over every category, severity, channel, fault and role, with customers from one-off
buyers to lapsed platinum regulars, unknown customers, detractors and heavy claimants.

usage: bench/gen_scenarios.py [POLICY] [COUNT] > bench/scenarios.ndjson
"""
import json
import sys

policy = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "policies/goodwill.json"))
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
cur = policy["currency"]
money = lambda a: {"amount": f"{a:.2f}", "currency": cur}
out = []
for ex in policy.get("examples", []):
    out.append({"request": ex["request"], "customer": ex.get("customer")})

SEV = ["low", "medium", "high", "critical"]
CH = ["email", "chat", "phone", "social", "web", "in_person"]
FAULT = ["ours", "partner", "customer", "unclear"]
tiers = policy["tiers"]


def customer(i):
    if i % 9 == 0:
        return None  # unknown customer
    orders = (i * 7919) % 60 + 1
    revenue = orders * (20 + (i * 104729) % 300)
    tier = tiers[(i // 3) % len(tiers)]
    peak = tiers[min(len(tiers) - 1, (i // 3) % len(tiers) + (1 if i % 7 == 0 else 0))]
    c = {
        "currency": cur,
        "lifetime_revenue": money(revenue),
        "orders": orders,
        "first_order_at": f"{2015 + i % 9}-0{1 + i % 9}-1{i % 10}",
        "last_order_at": f"20{24 + i % 3}-1{i % 3}-0{1 + i % 9}",
        "tier": tier,
        "peak_tier": peak,
        "referrals": i % 5,
        "goodwill_12m": money((i * 31) % 500),
        "claims_90d": i % 6,
    }
    if i % 4 == 0:
        c["nps"] = {"score": i % 11, "at": "2026-09-01"}
    if i % 5 == 0:
        c["predicted_value"] = money(revenue * 1.3)
    return c


i = 0
while len(out) < count:
    i += 1
    req = {
        "ticket_id": f"T-{i}",
        "customer_id": f"c-bench-{i}",
        "agent": {"id": "a-1", "role": policy["roles"][i % len(policy["roles"])]},
        "complaint": {
            "category": policy["categories"][i % len(policy["categories"])],
            "severity": SEV[(i // 3) % 4],
            "channel": CH[(i // 5) % 6],
            "fault": FAULT[(i // 2) % 4],
            "amount_at_stake": money((i * 37) % 900 + 10),
        },
    }
    if i % 3 == 0:
        req["attributes"] = {"unanswered_contacts": i % 4, "order_id": f"o-{i}"}
    out.append({"request": req, "customer": customer(i)})

for line in out:
    print(json.dumps(line, separators=(",", ":")))
