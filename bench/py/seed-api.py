"""The original's prediction service, rebuilt for bench/serve.ts (not a runtime dependency).

A FastAPI app as the seed system served its model: at start it builds the seed's model
(mean/most-frequent imputers + scaler + one-hot(drop first) + XGBRegressor 300/6/0.2, one
thread) on the listings of XLSX, then answers

  GET  /         a home route
  GET  /health   {"status": "ok"}
  POST /predict  the 12 listing fields -> {"predicted_price": <2 decimals>}, 500 on error

by turning the request into a one-row pandas DataFrame and calling pipeline.predict, under
uvicorn with one worker, as the original did.

Usage: /usr/bin/python3 bench/py/seed-api.py XLSX PORT
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402

import pandas as pd  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from xgboost import XGBRegressor  # noqa: E402

NUMERIC = ["odometer", "fitnessAge", "featureCount"]
CATEGORICAL = ["make", "model", "variant", "year", "transmissionType", "bodyType", "fuelType", "ownership", "color"]
TARGET = "listingPrice"


class CarFeatures(BaseModel):
    odometer: float
    fitnessAge: float
    featureCount: float
    make: str
    model: str
    variant: str
    year: int
    transmissionType: str
    bodyType: str
    fuelType: str
    ownership: int
    color: str


def build_model(xlsx):
    df = pd.read_excel(xlsx).drop_duplicates()
    df = df[NUMERIC + CATEGORICAL + [TARGET]].dropna(subset=[TARGET])
    num = Pipeline([("imputer", SimpleImputer(strategy="mean")), ("scaler", StandardScaler())])
    cat = Pipeline([("imputer", SimpleImputer(strategy="most_frequent")), ("onehot", OneHotEncoder(drop="first", handle_unknown="ignore"))])
    pre = ColumnTransformer([("num", num, NUMERIC), ("cat", cat, CATEGORICAL)])
    model = XGBRegressor(n_estimators=300, max_depth=6, learning_rate=0.2, random_state=42, tree_method="hist", n_jobs=1)
    pipe = Pipeline([("preprocessor", pre), ("model", model)])
    pipe.fit(df[NUMERIC + CATEGORICAL], df[TARGET])
    return pipe


app = FastAPI()
MODEL = None


@app.get("/")
def home():
    return {"message": "Used car price prediction API"}


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(features: CarFeatures):
    try:
        row = pd.DataFrame([features.dict()])
        price = MODEL.predict(row)[0]
        return {"predicted_price": round(float(price), 2)}
    except Exception as e:  # the original answered 500 with the error
        raise HTTPException(status_code=500, detail=str(e))


if __name__ == "__main__":
    import warnings

    warnings.filterwarnings("ignore")
    MODEL = build_model(sys.argv[1])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
