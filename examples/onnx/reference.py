"""What ONNX Runtime's own Python API answers for a request body, so that tests can compare the answers of
`easymlserve serve MODEL.onnx` with it.

Usage: .venvs/onnx/bin/python examples/onnx/reference.py MODEL.onnx INPUT.json
INPUT.json is a request body, {"<input name>": nested list, ...}; each list is cast to its input's declared
element type. Prints one line of JSON, {"<output name>": nested list, ...}, every output of the model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

# ONNX Runtime's type names (NodeArg.type) for the element types a JSON body can carry.
DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.str_,
}


def feeds(session: ort.InferenceSession, body: dict[str, Any]) -> dict[str, np.ndarray]:
    """The body's values as arrays of the model's declared input types."""
    inputs = {arg.name: arg.type for arg in session.get_inputs()}
    unknown = sorted(set(body) - set(inputs))
    if unknown:
        raise SystemExit(f"not inputs of the model: {unknown}; its inputs: {sorted(inputs)}")
    return {name: np.asarray(body[name], dtype=DTYPES[inputs[name]]) for name in inputs if name in body}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("input", type=Path)
    args = parser.parse_args()
    session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
    results = session.run(None, feeds(session, json.loads(args.input.read_text())))
    names = [arg.name for arg in session.get_outputs()]
    print(json.dumps({name: np.asarray(value).tolist() for name, value in zip(names, results)}))


if __name__ == "__main__":
    main()
