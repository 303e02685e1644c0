#!/usr/bin/env python3
"""Generate a policy of N rules from the shipped one, for the engine benchmarks.

Rules are spread over categories, segments, faults and claim bands, so that a request's
matching rule sits anywhere in its category's list (on average in the middle): a linear
scan of every rule would cost O(N), the category index O(N / categories). Each category
ends with a catch-all rule, so every request matches some rule. The generated policy keeps
the shipped vocabulary, gestures, authority and guards, and drops the example cases (which
are written for the shipped rules).

usage: bench/gen_policy.py N > bench/policies/rules-N.json
"""
import json
import sys

n = int(sys.argv[1])
policy = json.load(open(sys.argv[2] if len(sys.argv) > 2 else "policies/goodwill.json"))
cats = policy["categories"]
segs = [s["id"] for s in policy["segments"]]
faults = ["ours", "partner", "customer", "unclear"]
gestures = ["refund", "voucher", "credit", "partial_refund"]
per_cat = max(2, n // len(cats))
bands = max(1, (per_cat - 1 + 15) // 16)
rules = []
for ci, cat in enumerate(cats):
    for j in range(per_cat):
        rid = f"g-{cat}-{j}"
        if j == per_cat - 1:
            when = {"category": [cat]}
        else:
            b = j // 16
            lo, hi = b * 1000 // bands, (b + 1) * 1000 // bands
            when = {
                "category": [cat],
                "segment": [segs[j % len(segs)]],
                "fault": [faults[(j // 4) % len(faults)]],
                "claim": {"min": f"{lo}.00", "max": f"{hi}.00"},
            }
        rules.append({
            "id": rid,
            "description": f"generated rule {len(rules) + 1}",
            "when": when,
            "then": {
                "gesture": gestures[j % len(gestures)],
                "amount": {"of_claim": "0.5", "max": "500.00"},
                "reason": "generated rule: {value_at_risk} at risk, claim {claim}",
            },
        })
policy["rules"] = rules[:n] if len(rules) > n else rules
policy["id"] = f"generated-{len(policy['rules'])}"
policy["examples"] = []
print(json.dumps(policy, separators=(",", ":")))
