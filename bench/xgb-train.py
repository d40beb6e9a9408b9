"""XGBoost side of bench/train-vs-xgboost.ts (not a runtime dependency of carprice).

Reads a float64 little-endian matrix written by the bench, trains XGBoost's hist method
on one thread with the given params, times only the training call, optionally predicts
a second matrix, and prints one JSON line: {"seconds": wall, "cpu_seconds": process CPU, "version": ...}.

Usage: /usr/bin/python3 bench/xgb-train.py SPEC.json
SPEC: {"train": file, "n_rows", "n_cols", "y": file, "params": {...}, "n_estimators",
       "test": file (optional), "n_test", "pred_out": file (optional), "csr": bool (optional)}

With "csr": true the matrix goes to XGBoost as a scipy CSR matrix holding only its non-zero
cells (NaN cells stay, as missing): the sparse form carprice's histograms use for mostly-zero
columns. XGBoost reads an absent CSR cell as missing, so a zero becomes "missing" there.
"""
import json
import sys
import time

import numpy as np
import xgboost as xgb


def main() -> None:
    spec = json.load(open(sys.argv[1]))
    X = np.fromfile(spec["train"], dtype="<f8").reshape(spec["n_rows"], spec["n_cols"])
    y = np.fromfile(spec["y"], dtype="<f8")
    if spec.get("csr"):
        import scipy.sparse

        X = scipy.sparse.csr_matrix(X)
    dtrain = xgb.DMatrix(X, label=y, nthread=1)
    params = {"tree_method": "hist", "nthread": 1, "max_bin": 256, "objective": "reg:squarederror"}
    params.update(spec["params"])
    t0 = time.perf_counter()
    c0 = time.process_time()
    booster = xgb.train(params, dtrain, num_boost_round=spec["n_estimators"])
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    if spec.get("test"):
        Xt = np.fromfile(spec["test"], dtype="<f8").reshape(spec["n_test"], spec["n_cols"])
        booster.predict(xgb.DMatrix(Xt, nthread=1)).astype("<f8").tofile(spec["pred_out"])
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "version": xgb.__version__,
                      "stored_cells": int(X.nnz) if spec.get("csr") else int(X.size)}))


if __name__ == "__main__":
    main()
