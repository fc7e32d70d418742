"""Why this exists: the Python baseline of the ONNX benchmark, an ONNX file served the way a researcher would
serve it by hand: FastAPI + Uvicorn in one process around an onnxruntime.InferenceSession. Same JSON as
`easymlserve serve model.onnx`: POST /process {"<input name>": nested list, ...} -> {"<output name>": nested
list, ...}, each input cast to the element type the model declares.

Run (from the repository root, in the venv of scripts/venvs/onnx.txt):
    ONNX_MODEL=examples/onnx/models/digits_cnn.onnx .venvs/onnx/bin/uvicorn --app-dir bench/onnx fastapi_app:app --port 8001
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, HTTPException

DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}

session = ort.InferenceSession(os.environ["ONNX_MODEL"], providers=["CPUExecutionProvider"])
inputs = {arg.name: DTYPES[arg.type] for arg in session.get_inputs()}
outputs = [arg.name for arg in session.get_outputs()]
app = FastAPI(title=os.path.basename(os.environ["ONNX_MODEL"]))


@app.post("/process")
def process(body: dict[str, Any]) -> dict[str, Any]:
    # A plain `def`: inference blocks, so FastAPI runs it in its thread pool, off the event loop.
    missing = sorted(set(inputs) - set(body))
    unknown = sorted(set(body) - set(inputs))
    if missing or unknown:
        raise HTTPException(422, f"missing inputs {missing}, unknown inputs {unknown}")
    try:
        feeds = {name: np.asarray(body[name], dtype=dtype) for name, dtype in inputs.items()}
        results = session.run(outputs, feeds)
    except Exception as error:  # a ragged list, a wrong shape: the client's fault
        raise HTTPException(422, str(error)) from error
    return {name: value.tolist() for name, value in zip(outputs, results)}


@app.get("/health")
def health() -> dict[str, str]:
    # The benchmark times cold start up to the first 200 here.
    return {"status": "ready"}
