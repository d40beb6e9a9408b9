"""XGBoost side of bench/scale.ts (not a runtime dependency of carprice).

The whole process as a pandas + XGBoost user runs it: read the listings CSV with pandas,
turn the seed's categorical columns into ordinal codes, fit XGBoost's hist method on one
thread with the seed's config, and print one JSON line with the seconds of each step, the
total, and the process's peak resident memory.

Usage: /usr/bin/python3 bench/xgb-scale.py TRAIN.csv N_ESTIMATORS MAX_DEPTH LEARNING_RATE
"""
import json
import resource
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402

NUMERIC = ["odometer", "fitnessAge", "featureCount"]
CATEGORICAL = ["make", "model", "variant", "year", "transmissionType", "bodyType", "fuelType", "ownership", "color"]


def main() -> None:
    path, n_estimators, max_depth, learning_rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    t_import = time.perf_counter()
    df = pd.read_csv(path)
    df = df.drop_duplicates()
    t_read = time.perf_counter()
    X = pd.DataFrame({c: df[c] for c in NUMERIC})
    for c in CATEGORICAL:
        X[c] = df[c].astype("category").cat.codes.replace(-1, np.nan)
    y = np.log1p(df["listingPrice"].to_numpy(dtype=np.float64))
    dtrain = xgb.DMatrix(X.to_numpy(dtype=np.float64), label=y, nthread=1)
    t_prep = time.perf_counter()
    params = {
        "tree_method": "hist",
        "nthread": 1,
        "max_bin": 256,
        "objective": "reg:squarederror",
        "max_depth": max_depth,
        "learning_rate": learning_rate,
    }
    xgb.train(params, dtrain, num_boost_round=n_estimators)
    t_fit = time.perf_counter()
    print(
        json.dumps(
            {
                "rows": int(len(df)),
                "import_seconds": t_import - t0,
                "read_seconds": t_read - t_import,
                "prep_seconds": t_prep - t_read,
                "fit_seconds": t_fit - t_prep,
                "seconds": t_fit - t0,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "version": xgb.__version__,
                "pandas": pd.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
