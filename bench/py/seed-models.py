"""Python side of bench/quality-vs-python.ts (not a runtime dependency of carprice).

Fits the seed system's models, built as the seed built them, on a train.csv the bench wrote
and writes their predictions for the bench's test.csv, so the bench scores both stacks with
the same metric code on identical rows:

  preprocessing  ColumnTransformer(
                   numeric:     SimpleImputer(strategy='mean') + StandardScaler(),
                   categorical: SimpleImputer(strategy='most_frequent')
                                + OneHotEncoder(drop='first', handle_unknown='ignore'))
                 (scikit-learn 1.2.1 accepts drop='first' together with
                 handle_unknown='ignore': a category unseen in training is encoded as all
                 zeros, i.e. like the dropped first category, with a warning we silence)
  models         LinearRegression(), Ridge() (alpha 1.0),
                 XGBRegressor(n_estimators=300, max_depth=6, learning_rate=0.2,
                              random_state=42, tree_method='hist', n_jobs=1)
                 (n_jobs is the scikit-learn API's name for XGBoost's nthread)
  target         listingPrice as it is (no log)

Each model's fit (preprocessing included) is timed. Optionally (split_check) it also reads
the xlsx with pandas, drops duplicates and runs train_test_split(range(n), test_size,
random_state) to check that carprice's test rows are scikit-learn's.

Usage: /usr/bin/python3 bench/py/seed-models.py SPEC.json
SPEC: {"train_csv", "test_csv", "numeric": [...], "categorical": [...], "target",
       "models": ["linear", "ridge", "xgboost"], "pred_dir",
       "split_check": {"xlsx", "test_size", "seed", "test_indices": [...], "test_prices": [...]} (optional)}
Prints one JSON line: {"versions": {...}, "models": {name: {"seconds", "pred_file"}}, "split_check": {...}}
Predictions are little-endian float64 files, one value per test row, in test.csv order.
"""
import os

# one thread for BLAS too, as carprice trains on one thread (set before numpy loads)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
import xgboost  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LinearRegression, Ridge  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from xgboost import XGBRegressor  # noqa: E402


def read_rows(path, numeric, categorical, target):
    """The bench's CSV: categoricals as strings (empty = missing), numbers as floats."""
    dtypes = {c: str for c in categorical}
    dtypes.update({c: "float64" for c in numeric + [target]})
    return pd.read_csv(
        path,
        dtype=dtypes,
        keep_default_na=False,
        na_values={c: [""] for c in numeric + categorical + [target]},
        float_precision="round_trip",
    )


def preprocessor(numeric, categorical):
    num = Pipeline([("imputer", SimpleImputer(strategy="mean")), ("scaler", StandardScaler())])
    cat = Pipeline(
        [
            ("imputer", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(drop="first", handle_unknown="ignore")),
        ]
    )
    return ColumnTransformer([("num", num, numeric), ("cat", cat, categorical)])


def estimator(name):
    if name == "linear":
        return LinearRegression()
    if name == "ridge":
        return Ridge()
    if name == "xgboost":
        return XGBRegressor(
            n_estimators=300, max_depth=6, learning_rate=0.2, random_state=42, tree_method="hist", n_jobs=1
        )
    raise SystemExit(f"unknown model {name}")


def split_check(c, target):
    df = pd.read_excel(c["xlsx"])
    n_read = len(df)
    df = df.drop_duplicates().reset_index(drop=True)
    _, test = train_test_split(list(range(len(df))), test_size=c["test_size"], random_state=c["seed"])
    ours = sorted(c["test_indices"])
    theirs = sorted(test)
    same = ours == theirs
    same_prices = same and [float(df[target].iloc[i]) for i in ours] == [float(p) for p in c["test_prices"]]
    return {"rows_read": n_read, "rows_after_dedup": len(df), "n_test": len(test), "same_indices": same, "same_prices": same_prices}


def main():
    spec = json.load(open(sys.argv[1]))
    numeric, categorical, target = spec["numeric"], spec["categorical"], spec["target"]
    train = read_rows(spec["train_csv"], numeric, categorical, target)
    test = read_rows(spec["test_csv"], numeric, categorical, target)
    cols = numeric + categorical
    out = {
        "versions": {"numpy": np.__version__, "pandas": pd.__version__, "sklearn": sklearn.__version__, "xgboost": xgboost.__version__},
        "models": {},
    }
    warnings.filterwarnings("ignore", message="Found unknown categories")
    for name in spec["models"]:
        model = Pipeline([("preprocessor", preprocessor(numeric, categorical)), ("model", estimator(name))])
        t0 = time.perf_counter()
        model.fit(train[cols], train[target])
        seconds = time.perf_counter() - t0
        pred_file = os.path.join(spec["pred_dir"], f"pred-{name}.bin")
        np.asarray(model.predict(test[cols]), dtype="<f8").tofile(pred_file)
        out["models"][name] = {"seconds": seconds, "pred_file": pred_file}
    if spec.get("split_check"):
        out["split_check"] = split_check(spec["split_check"], target)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
