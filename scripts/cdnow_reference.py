"""Generate the CDNOW reference values that tests/value.rs checks the Rust models against.

Run once through scripts/cdnow_reference.sh (it installs `lifetimes` in a throwaway venv).
Writes tests/fixtures/cdnow_summary.csv (the public CDNOW sample shipped with lifetimes:
frequency, recency and T in weeks, mean repeat spend) and tests/fixtures/cdnow_reference.json.
"""
import json
import sys

import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
data = load_cdnow_summary_data_with_monetary_value()
data.to_csv(f"{out_dir}/cdnow_summary.csv", index_label="customer_id")

bgf = BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(data["frequency"], data["recency"], data["T"])
n = len(data)
# lifetimes minimises the mean negative log-likelihood; report the total.
bg_ll = -bgf._negative_log_likelihood(
    np.log(bgf.params_.values), data["frequency"].values, data["recency"].values,
    data["T"].values, np.ones(n), 0.0) * n

returning = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
ggf = GammaGammaFitter(penalizer_coef=0.0)
ggf.fit(returning["frequency"], returning["monetary_value"])
m = len(returning)
gg_ll = -ggf._negative_log_likelihood(
    np.log(ggf.params_.values), returning["frequency"].values,
    returning["monetary_value"].values, np.ones(m), 0.0) * m

HORIZON_WEEKS = 39.0
CLV_MONTHS = 12
DISCOUNT_MONTHLY = 0.01
# A spread of customers: every 50th, plus the heaviest buyers.
ids = list(data.index[::50]) + list(data.sort_values("frequency").index[-5:])
sample = data.loc[ids]
alive = bgf.conditional_probability_alive(sample["frequency"], sample["recency"], sample["T"])
purchases = bgf.conditional_expected_number_of_purchases_up_to_time(
    HORIZON_WEEKS, sample["frequency"], sample["recency"], sample["T"])
spend = ggf.conditional_expected_average_profit(sample["frequency"], sample["monetary_value"])
clv = ggf.customer_lifetime_value(bgf, sample["frequency"], sample["recency"], sample["T"],
                                  sample["monetary_value"], time=CLV_MONTHS,
                                  discount_rate=DISCOUNT_MONTHLY, freq="W")

# The library returns a mix of arrays, series and frames; compare by position.
alive, purchases, spend, clv = (np.asarray(x, dtype=float).ravel() for x in (alive, purchases, spend, clv))
customers = []
for i, cid in enumerate(ids):
    row = data.loc[cid]
    customers.append({
        "customer_id": str(cid),
        "frequency": float(row["frequency"]), "recency": float(row["recency"]),
        "t": float(row["T"]), "monetary_value": float(row["monetary_value"]),
        "p_alive": float(alive[i]),
        "expected_purchases": float(purchases[i]),
        "expected_spend": float(spend[i]),
        "clv": float(clv[i]),
    })

ref = {
    "generated_by": "scripts/cdnow_reference.py with lifetimes " + __import__("lifetimes").__version__,
    "time_unit": "week",
    "bgnbd": {**{k: float(v) for k, v in bgf.params_.items()}, "log_likelihood": float(bg_ll),
              "customers": n},
    "gamma_gamma": {**{k: float(v) for k, v in ggf.params_.items()}, "log_likelihood": float(gg_ll),
                    "customers": m},
    "horizon_weeks": HORIZON_WEEKS,
    "clv_months": CLV_MONTHS,
    "discount_monthly": DISCOUNT_MONTHLY,
    "customers": customers,
}
with open(f"{out_dir}/cdnow_reference.json", "w") as f:
    json.dump(ref, f, indent=1)
print(json.dumps({k: ref[k] for k in ("bgnbd", "gamma_gamma")}, indent=1))
