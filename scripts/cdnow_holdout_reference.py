"""Generate the CDNOW holdout reference that tests/value_validate.rs checks
`kulanz value validate` against, and the raw orders it imports.

Run once through scripts/cdnow_reference.sh (it installs `lifetimes` in a throwaway venv).
Writes to OUT_DIR (default tests/fixtures):
- cdnow_orders.csv: the raw CDNOW 1/10th sample shipped with lifetimes (CDNOW_sample.txt,
  6,919 purchases of 2,357 customers, 1997-01-01 to 1998-06-30), as `customer_id,date,amount`
  with no order id; the customer id is the sample's (1 to 2357), as in cdnow_summary.csv.
- cdnow_holdout_reference.json: lifetimes' calibration/holdout split (1997-09-30, 1998-06-30;
  days as purchase periods, times in weeks: freq="D", freq_multiplier=7, which is how kulanz
  counts), both fits on the calibration period, each customer's expected holdout purchases
  (conditional_expected_number_of_purchases_up_to_time) and expected spend, the table by
  calibration frequency, and the tracking curve (expected_cumulative_transactions).
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data, expected_cumulative_transactions

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures"
CAL_END, HOLDOUT_END = "1997-09-30", "1998-06-30"

raw = pd.read_csv(
    os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt"),
    sep=r"\s+", header=None, names=["master_id", "customer_id", "date", "cds", "amount"],
    dtype={"master_id": str, "customer_id": int, "date": str, "cds": int, "amount": str})
orders = pd.DataFrame({
    "customer_id": raw["customer_id"].astype(str),
    "date": pd.to_datetime(raw["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d"),
    # The dollar amounts as written in the sample, two decimals, never through a float.
    "amount": raw["amount"].map(lambda s: f"{float(s):.2f}" if "." not in s else s),
})
orders.to_csv(f"{out_dir}/cdnow_orders.csv", index=False)

tx = pd.DataFrame({
    "customer_id": orders["customer_id"],
    "date": pd.to_datetime(orders["date"]),
    "amount": orders["amount"].astype(float),
})
data = calibration_and_holdout_data(
    tx, "customer_id", "date", calibration_period_end=CAL_END, observation_period_end=HOLDOUT_END,
    freq="D", freq_multiplier=7, monetary_value_col="amount")
n = len(data)
f, r, T = data["frequency_cal"], data["recency_cal"], data["T_cal"]

bgf = BetaGeoFitter(penalizer_coef=0.0)
bgf.fit(f, r, T)
# lifetimes minimises the mean negative log-likelihood; report the total.
bg_ll = -bgf._negative_log_likelihood(
    np.log(bgf.params_.values), f.values, r.values, T.values, np.ones(n), 0.0) * n
duration = float(data["duration_holdout"].iloc[0])
predicted = np.asarray(
    bgf.conditional_expected_number_of_purchases_up_to_time(duration, f, r, T), dtype=float)
actual = data["frequency_holdout"].values.astype(float)

returning = data[(data["frequency_cal"] > 0) & (data["monetary_value_cal"] > 0)]
ggf = GammaGammaFitter(penalizer_coef=0.0)
ggf.fit(returning["frequency_cal"], returning["monetary_value_cal"])
m = len(returning)
gg_ll = -ggf._negative_log_likelihood(
    np.log(ggf.params_.values), returning["frequency_cal"].values,
    returning["monetary_value_cal"].values, np.ones(m), 0.0) * m

# Actual holdout spend per purchase day (kulanz's spend unit: a day's orders summed), for
# the customers Gamma-Gamma speaks for who bought in the holdout.
hold = tx[(tx["date"] > CAL_END) & (tx["date"] <= HOLDOUT_END)]
day_spend = hold.groupby(["customer_id", "date"])["amount"].sum()
mean_day_spend = day_spend.groupby(level="customer_id").mean()
spenders = [c for c in returning.index if c in mean_day_spend.index]
spend_pred = np.asarray(ggf.conditional_expected_average_profit(
    returning.loc[spenders, "frequency_cal"], returning.loc[spenders, "monetary_value_cal"]),
    dtype=float)
spend_act = mean_day_spend.loc[spenders].values


def compare(act, pred):
    return {"customers": int(len(act)), "actual_total": float(act.sum()),
            "predicted_total": float(pred.sum()), "actual_mean": float(act.mean()),
            "predicted_mean": float(pred.mean()),
            "mean_absolute_error": float(np.abs(act - pred).mean()),
            "correlation": float(np.corrcoef(act, pred)[0, 1])}


table = []
for k in range(8):
    mask = (f.values >= 7) if k == 7 else (f.values == k)
    table.append({"frequency": k, "customers": int(mask.sum()),
                  "actual_mean": float(actual[mask].mean()),
                  "predicted_mean": float(predicted[mask].mean())})

# 546 days from 1997-01-01 is 1998-07-01: 78 whole weeks, the last ending 1998-06-30.
tracking = expected_cumulative_transactions(
    bgf, tx[tx["date"] <= HOLDOUT_END], "date", "customer_id", 546, freq="D", freq_multiplier=7)

ref = {
    "generated_by": "scripts/cdnow_holdout_reference.py with lifetimes " + lifetimes.__version__,
    "calibration_end": CAL_END, "holdout_end": HOLDOUT_END, "time_unit": "week",
    "holdout_duration": duration,
    "bgnbd": {**{k: float(v) for k, v in bgf.params_.items()}, "log_likelihood": float(bg_ll),
              "customers": n},
    "gamma_gamma": {**{k: float(v) for k, v in ggf.params_.items()},
                    "log_likelihood": float(gg_ll), "customers": m},
    "purchases": compare(actual, predicted),
    "by_calibration_frequency": table,
    "spend": compare(spend_act, spend_pred),
    "tracking": {"actual": [float(v) for v in tracking["actual"]],
                 "predicted": [float(v) for v in tracking["predicted"]]},
    "customers": {"customer_id": [str(c) for c in data.index],
                  "frequency_cal": [int(v) for v in f],
                  "frequency_holdout": [int(v) for v in actual],
                  "predicted_holdout": [float(v) for v in predicted]},
}
with open(f"{out_dir}/cdnow_holdout_reference.json", "w") as fh:
    json.dump(ref, fh, indent=1)
print(json.dumps({k: ref[k] for k in ("bgnbd", "gamma_gamma", "purchases", "spend")}, indent=1))
