"""Time lifetimes' BG/NBD and Gamma-Gamma fits on the CDNOW calibration summaries (the
raw orders of tests/fixtures/cdnow_orders.csv up to 1997-09-30, days as purchase periods,
weeks as the time unit: the summaries `kulanz value fit --observation-end 1997-09-30`
fits). Prints one JSON object: each fit's median, min and max seconds over REPS runs,
summaries built once, outside the clock. Run by bench/value.sh.
Usage: python bench/value_lifetimes.py ORDERS_CSV REPS"""
import json
import statistics
import sys
import time

import pandas as pd
import lifetimes
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data

orders = pd.read_csv(sys.argv[1], dtype={"customer_id": str, "amount": float})
orders["date"] = pd.to_datetime(orders["date"])
reps = int(sys.argv[2])
cal = orders[orders["date"] <= "1997-09-30"]
s = summary_data_from_transaction_data(cal, "customer_id", "date", monetary_value_col="amount",
                                       observation_period_end="1997-09-30", freq="D",
                                       freq_multiplier=7)
repeat = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]


def timed(fit):
    runs = []
    for _ in range(reps):
        start = time.perf_counter()
        params = fit()
        runs.append(time.perf_counter() - start)
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs),
            "params": {k: float(v) for k, v in params.items()}}


out = {
    "lifetimes": lifetimes.__version__,
    "customers": len(s), "repeat_customers": len(repeat),
    "bgnbd": timed(lambda: BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]).params_),
    "gamma_gamma": timed(lambda: GammaGammaFitter().fit(repeat["frequency"],
                                                        repeat["monetary_value"]).params_),
}
print(json.dumps(out, indent=1))
