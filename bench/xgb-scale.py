"""XGBoost side of bench/scale.ts (not a runtime dependency of carprice).

The whole process as a pandas + XGBoost user runs it: read the listings CSV with pandas,
turn the seed's categorical columns into ordinal codes, fit XGBoost's hist method on one
thread with the seed's config, and print one JSON line with the seconds of each step, the
total, and the process's peak resident memory.

Usage: /usr/bin/python3 bench/xgb-scale.py TRAIN.csv N_ESTIMATORS MAX_DEPTH LEARNING_RATE
       /usr/bin/python3 bench/xgb-scale.py --predict TRAIN.csv DATA.csv N_ESTIMATORS MAX_DEPTH LEARNING_RATE
The second form is the prediction anchor: fit on TRAIN.csv (not timed), then time reading
DATA.csv with pandas, coding it with the training categories and predicting every row on
one thread.
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


def codes(df, cats=None):
    X = pd.DataFrame({c: df[c] for c in NUMERIC})
    out = {}
    for c in CATEGORICAL:
        col = df[c].astype("category") if cats is None else pd.Categorical(df[c], categories=cats[c])
        col = pd.Series(col, index=df.index)
        out[c] = col.cat.categories
        X[c] = col.cat.codes.replace(-1, np.nan)
    return X.to_numpy(dtype=np.float64), out


def predict_anchor() -> None:
    train, data = sys.argv[2], sys.argv[3]
    n_estimators, max_depth, learning_rate = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
    df = pd.read_csv(train)
    X, cats = codes(df)
    y = np.log1p(df["listingPrice"].to_numpy(dtype=np.float64))
    params = {"tree_method": "hist", "nthread": 1, "objective": "reg:squarederror", "max_depth": max_depth, "learning_rate": learning_rate}
    booster = xgb.train(params, xgb.DMatrix(X, label=y, nthread=1), num_boost_round=n_estimators)
    t0 = time.perf_counter()
    d = pd.read_csv(data)
    t_read = time.perf_counter()
    Xd, _ = codes(d, cats)
    p = np.expm1(booster.predict(xgb.DMatrix(Xd, nthread=1)))
    t_pred = time.perf_counter()
    print(
        json.dumps(
            {
                "rows": int(len(d)),
                "read_seconds": t_read - t0,
                "predict_seconds": t_pred - t_read,
                "seconds": t_pred - t0,
                "checksum": float(np.nansum(p[:10])),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "version": xgb.__version__,
            }
        )
    )


def main() -> None:
    if sys.argv[1] == "--predict":
        predict_anchor()
        return
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
