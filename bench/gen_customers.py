#!/usr/bin/env python3
"""N customer records as import NDJSON (`customer_id` plus the record), deterministic.

usage: bench/gen_customers.py N > customers.ndjson
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
tiers = ["none", "bronze", "silver", "gold", "platinum"]
w = sys.stdout.write
for i in range(n):
    orders = (i * 7919) % 60 + 1
    revenue = orders * (20 + (i * 104729) % 300)
    tier = tiers[(i // 3) % 5]
    nps = f',"nps":{{"score":{i % 11},"at":"2026-09-01"}}' if i % 4 == 0 else ""
    w(
        f'{{"customer_id":"c-bulk-{i:06d}","currency":"EUR",'
        f'"lifetime_revenue":{{"amount":"{revenue}.00","currency":"EUR"}},"orders":{orders},'
        f'"first_order_at":"{2015 + i % 10}-0{1 + i % 9}-1{i % 10}",'
        f'"last_order_at":"2026-{1 + i % 10:02d}-0{1 + i % 9}","tier":"{tier}","peak_tier":"{tier}",'
        f'"referrals":{i % 5},"goodwill_12m":{{"amount":"{(i * 31) % 500}.00","currency":"EUR"}},'
        f'"claims_90d":{i % 6}{nps}}}\n'
    )
