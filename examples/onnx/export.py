"""Makes the ONNX files of examples/onnx, so that `easymlserve serve model.onnx` has real models to serve
and the tests have real inputs to send, without a network: both are trained on data sets that ship inside
scikit-learn.

Run: .venvs/onnx/bin/python examples/onnx/export.py  (a few seconds; fixed seeds, so the same files again)

Writes into examples/onnx/models/:
- diabetes.onnx: skl2onnx's export of Pipeline(StandardScaler, LinearRegression) on load_diabetes (raw,
  unscaled features), input X float [?, 10], output `variable` float [?, 1]. Its ai.onnx.ml Scaler op is
  there on purpose: tract lacks it, ONNX Runtime runs it.
- digits_cnn.onnx: a small convolutional net for load_digits (8x8, values 0..16), written with onnx.helper
  in standard ai.onnx ops (opset 13) after training it here in numpy with hand-written backprop.
- <model>.example.json: one held-out request body for each.
and into examples/onnx/examples/: digit-<label>-<index in load_digits>.png, three held-out digits.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from numpy.typing import NDArray
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_diabetes, load_digits
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
IMAGES = HERE / "examples"
SEED = 0
PRODUCER = "easymlserve examples/onnx/export.py"
FILTERS = 16  # 3x3 convolution filters of the digits net
Array = NDArray[np.float64]


def save(model: onnx.ModelProto, name: str) -> Path:
    onnx.checker.check_model(model, full_check=True)
    path = MODELS / name
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path


def write_json(path: Path, body: dict[str, object]) -> None:
    path.write_text(json.dumps(body) + "\n")


def export_diabetes() -> None:
    data = load_diabetes(scaled=False)
    x, y = np.asarray(data.data), np.asarray(data.target)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=SEED)
    pipe = Pipeline([("scale", StandardScaler()), ("regress", LinearRegression())]).fit(x_train, y_train)
    model = convert_sklearn(
        pipe,
        initial_types=[("X", FloatTensorType([None, x.shape[1]]))],
        target_opset={"": 13, "ai.onnx.ml": 1},
    )
    # skl2onnx names the graph with a random UUID and lists the default opset twice: make the file the same
    # on every run, and plain.
    model.graph.name = "diabetes"
    opsets = {o.domain: o.version for o in model.opset_import}
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(domain, version) for domain, version in sorted(opsets.items()))
    helper.set_model_props(
        model,
        {
            "description": "Disease progression one year after baseline, predicted by linear regression from "
            "ten raw baseline measurements (age, sex, bmi, bp, s1..s6) of scikit-learn's diabetes data set."
        },
    )
    path = save(model, "diabetes.onnx")
    got = run(path, "X", x_test.astype(np.float32))[:, 0]
    drift = float(np.max(np.abs(got - pipe.predict(x_test))))
    print(f"diabetes.onnx: held-out R^2 {r2_score(y_test, got):.4f} (ONNX Runtime; max |ORT - sklearn| {drift:.2e})")
    write_json(MODELS / "diabetes.example.json", {"X": [[float(v) for v in x_test[0]]]})


def run(path: Path, name: str, x: NDArray[np.float32]) -> NDArray[np.float32]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {name: x})[0])


class DigitsNet:
    """Conv(1->FILTERS, 3x3, pad 1) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm(->10) -> Softmax, on x/16."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.wc = rng.normal(0.0, np.sqrt(2.0 / 9), (FILTERS, 9))
        self.bc = np.zeros(FILTERS)
        self.wd = rng.normal(0.0, np.sqrt(1.0 / (FILTERS * 16)), (10, FILTERS * 16))
        self.bd = np.zeros(10)

    @staticmethod
    def patches(x: Array) -> Array:
        """(n, 8, 8) -> (n, 64, 9): the 3x3 neighbourhood (zero padded) of every pixel, row-major."""
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
        return np.stack([padded[:, i : i + 8, j : j + 8] for i in range(3) for j in range(3)], axis=-1).reshape(
            len(x), 64, 9
        )

    def forward(self, x: Array) -> tuple[Array, Array, Array, Array, Array]:
        cols = self.patches(x)
        z = cols @ self.wc.T + self.bc  # (n, 64, F)
        a = np.maximum(z, 0.0).reshape(len(x), 4, 2, 4, 2, FILTERS)
        pooled = a.max(axis=(2, 4))  # (n, 4, 4, F)
        flat = pooled.transpose(0, 3, 1, 2).reshape(len(x), -1)  # ONNX's NCHW flatten order
        logits = flat @ self.wd.T + self.bd
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return cols, z, a, flat, e / e.sum(axis=1, keepdims=True)

    def grads(self, x: Array, y: NDArray[np.int64]) -> list[Array]:
        cols, z, a, flat, p = self.forward(x)
        n = len(x)
        dlogits = p.copy()
        dlogits[np.arange(n), y] -= 1.0
        dlogits /= n
        dflat = dlogits @ self.wd
        dpooled = dflat.reshape(n, FILTERS, 4, 4).transpose(0, 2, 3, 1)[:, :, None, :, None, :]
        mask = a == a.max(axis=(2, 4), keepdims=True)
        dz = (mask * dpooled).reshape(n, 64, FILTERS) * (z > 0)
        return [
            dz.reshape(-1, FILTERS).T @ cols.reshape(-1, 9),
            dz.sum(axis=(0, 1)),
            dlogits.T @ flat,
            dlogits.sum(axis=0),
        ]

    def train(self, x: Array, y: NDArray[np.int64], rng: np.random.Generator, epochs: int = 40) -> None:
        """Adam on mini-batches of 32, with a little L2 on the weights."""
        params = [self.wc, self.bc, self.wd, self.bd]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        step, lr, decay = 0, 0.01, 1e-4
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), 32):
                batch = order[start : start + 32]
                step += 1
                for i, (p, g) in enumerate(zip(params, self.grads(x[batch], y[batch]))):
                    g = g + decay * p if p.ndim == 2 else g
                    m[i] = 0.9 * m[i] + 0.1 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    p -= lr * (m[i] / (1 - 0.9**step)) / (np.sqrt(v[i] / (1 - 0.999**step)) + 1e-8)

    def to_onnx(self) -> onnx.ModelProto:
        # Trained on x/16; the convolution is linear in its input, so dividing its weights by 16 makes the
        # model take the raw 0..16 values.
        inits = [
            numpy_helper.from_array((self.wc / 16.0).reshape(FILTERS, 1, 3, 3).astype(np.float32), "conv.weight"),
            numpy_helper.from_array(self.bc.astype(np.float32), "conv.bias"),
            numpy_helper.from_array(self.wd.astype(np.float32), "fc.weight"),
            numpy_helper.from_array(self.bd.astype(np.float32), "fc.bias"),
        ]
        nodes = [
            helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv"], "conv", kernel_shape=[3, 3],
                             pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["conv"], ["relu"], "relu"),
            helper.make_node("MaxPool", ["relu"], ["pool"], "pool", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Flatten", ["pool"], ["flat"], "flat", axis=1),
            helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], "fc", transB=1),
            helper.make_node("Softmax", ["logits"], ["probabilities"], "softmax", axis=-1),
        ]
        graph = helper.make_graph(
            nodes,
            "digits_cnn",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 8, 8])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
            inits,
        )
        opsets = [helper.make_opsetid("", 13)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name=PRODUCER,
                                  ir_version=helper.find_min_ir_version_for(opsets))
        helper.set_model_props(
            model,
            {
                "classes": json.dumps([str(i) for i in range(10)], separators=(",", ":")),
                "easymlserve.image.scale": repr(16 / 255),
                "easymlserve.image.offset": "0",
                "description": "Handwritten digit (0-9) classifier for 8x8 greyscale images, white ink on black, "
                "pixel values 0 (black) to 16 (white) as in scikit-learn's digits data set.",
            },
        )
        return model


def write_png(path: Path, grey: NDArray[np.uint8]) -> None:
    """An 8-bit greyscale PNG (colour type 0), no filtering."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w = grey.shape
    raw = b"".join(b"\x00" + row.tobytes() for row in grey)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def export_digits() -> None:
    data = load_digits()
    x, y = np.asarray(data.images, dtype=np.float64), np.asarray(data.target, dtype=np.int64)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=SEED, stratify=y)
    rng = np.random.default_rng(SEED)
    net = DigitsNet(rng)
    net.train(x[idx_train] / 16.0, y[idx_train], rng)
    path = save(net.to_onnx(), "digits_cnn.onnx")
    probs = run(path, "image", x[idx_test][:, None].astype(np.float32))
    drift = float(np.max(np.abs(probs - net.forward(x[idx_test] / 16.0)[4])))
    predicted = probs.argmax(axis=1)
    accuracy = float(np.mean(predicted == y[idx_test]))
    print(f"digits_cnn.onnx: held-out accuracy {accuracy:.4f} on {len(idx_test)} images "
          f"(ONNX Runtime; max |ORT - numpy| {drift:.2e})")
    samples: list[int] = []
    for k, guess in zip(idx_test, predicted):
        if guess == y[k] and all(y[k] != y[s] for s in samples):
            samples.append(int(k))
        if len(samples) == 3:
            break
    write_json(MODELS / "digits_cnn.example.json", {"image": [[x[samples[0]].tolist()]]})
    IMAGES.mkdir(exist_ok=True)
    for k in samples:
        grey = np.rint(x[k] * 255 / 16).astype(np.uint8)
        write_png(IMAGES / f"digit-{y[k]}-{k}.png", np.kron(grey, np.ones((8, 8), dtype=np.uint8)))
    print("sample images:", ", ".join(f"digit-{y[k]}-{k}.png" for k in samples))


def main() -> None:
    MODELS.mkdir(exist_ok=True)
    export_diabetes()
    export_digits()


if __name__ == "__main__":
    main()
