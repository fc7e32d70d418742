#!/usr/bin/env python3
"""Runs the real Open Inference Protocol (KServe v2 / Triton) REST clients against a server.

Why this file exists: easymlserve's /v2 routes are only worth having if the clients people
already use can talk to them, and a hand-written request in a Rust test proves nothing about
that. The server's integration tests start a server and run this driver with the virtualenv
built from scripts/venvs/oip-clients.txt. Every check goes through
tritonclient.http.InferenceServerClient or kserve's InferenceRESTClient (the only exception is
kserve's model-metadata check: that SDK has no metadata call, so it is a plain GET).

    oip_clients.py --url http://127.0.0.1:PORT --case echo
    oip_clients.py --url http://127.0.0.1:PORT --case regression --model diabetes --onnx-file F
    oip_clients.py --url http://127.0.0.1:PORT --case digits --model digits_cnn --onnx-file F

Stdout gets `ok <client> <check> [detail]` for each check that passed and a closing
`N passed, M failed` line; stderr gets `FAIL <client> <check>: <why>` for each one that did not.
Exit status: 0 all passed, 1 a check failed, 2 bad arguments or a missing package,
3 the overall --deadline ran out (a client hung despite its own timeout).

What the two clients need from a server, seen on the wire against KServe's own ModelServer:
- tritonclient sends no Content-Type on any POST: a body without Inference-Header-Content-Length
  is JSON. With binary inputs it adds `Inference-Header-Content-Length: <JSON bytes>`. kserve sends
  `content-type: application/json`, or `application/octet-stream` plus the length header.
- kserve's request body always has "id" (a uuid4 when none is given) and "model_name"; tritonclient's
  has "id" only when given. Binary outputs are asked for as request `parameters.binary_data_output`
  or per output `parameters.binary_data`; JSON BYTES are UTF-8 strings, binary BYTES are each a
  little-endian u32 length then the bytes.
- kserve's response parser needs "model_name" (KeyError without it); both read appended binary
  outputs only when the response has Inference-Header-Content-Length.
- tritonclient takes any non-200 as an error and reads "error" from a JSON body. kserve raises
  httpx.HTTPStatusError on non-2xx (model-ready only returns False) and puts the body's "error"
  into the message only when Content-Type is exactly `application/json` (no charset).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
Outputs = dict[str, np.ndarray]

TRITON = "tritonclient"
KSERVE = "kserve"
UNKNOWN_MODEL = "no-such-model-oip-driver"


class CheckFailed(Exception):
    """A check's expectation did not hold; the message says what was expected and seen."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True)
class TensorSpec:
    """One entry of a model's metadata `inputs` or `outputs`."""

    name: str
    datatype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Tensor:
    """A tensor to send: BYTES tensors hold a numpy object array of `bytes`."""

    name: str
    datatype: str
    array: np.ndarray


@dataclass(frozen=True)
class Case:
    """What one `--case` sends and expects, independent of the client."""

    model: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    good: tuple[Tensor, ...]
    # Checks the decoded outputs of the good request; returns a detail for the `ok` line.
    verify: Callable[[Outputs], str]
    bad_check: str
    bad: tuple[Tensor, ...]
    bad_status: int
    bad_substring: str


# --------------------------------------------------------------------------- cases


def as_bytes_list(array: np.ndarray) -> list[bytes]:
    """Both clients decode a BYTES tensor sent as JSON into `str`, and kserve even a binary one."""
    return [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in array.reshape(-1)]


def echo_case(model: str) -> Case:
    def verify(outputs: Outputs) -> str:
        text = outputs["text"]
        expect(tuple(text.shape) == (1,), f"output text: expected shape [1], got {list(text.shape)}")
        got = as_bytes_list(text)
        expect(got == [b"ababab"], f"output text: expected [b'ababab'], got {got!r}")
        return "text=[b'ababab']"

    return Case(
        model=model,
        inputs=(TensorSpec("text", "BYTES", (1,)), TensorSpec("repeat", "INT64", (1,))),
        outputs=(TensorSpec("text", "BYTES", (1,)),),
        good=(
            Tensor("text", "BYTES", np.array([b"ab"], dtype=np.object_)),
            Tensor("repeat", "INT64", np.array([3], dtype=np.int64)),
        ),
        verify=verify,
        bad_check="error-repeat-out-of-range",
        bad=(
            Tensor("text", "BYTES", np.array([b"ab"], dtype=np.object_)),
            Tensor("repeat", "INT64", np.array([11], dtype=np.int64)),
        ),
        bad_status=400,
        bad_substring="repeat",
    )


def onnx_reference(onnx_file: Path, feeds: dict[str, np.ndarray]) -> Outputs:
    """Runs the same model file in-process with onnxruntime: the numbers the server must match."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def compare_to(reference: Outputs, name: str) -> Callable[[Outputs], str]:
    want = reference[name]

    def verify(outputs: Outputs) -> str:
        got = outputs[name]
        expect(
            tuple(got.shape) == tuple(want.shape),
            f"output {name}: expected shape {list(want.shape)} (onnxruntime), got {list(got.shape)}",
        )
        diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
        limit = 1e-5 * max(1.0, float(np.max(np.abs(want))))
        expect(
            diff <= limit,
            f"output {name}: max abs diff {diff:.3g} to onnxruntime exceeds {limit:.3g}; "
            f"got {got.tolist()}, onnxruntime {want.tolist()}",
        )
        return f"max_abs_diff={diff:.3g}"

    return verify


def regression_case(model: str, onnx_file: Path) -> Case:
    # Three patients within 10% of examples/onnx/models/diabetes.example.json (the model takes
    # load_diabetes's raw, unscaled features: age, sex, bmi, bp, s1..s6), fixed by the seed.
    patient = np.array([54.0, 2.0, 36.1, 115.0, 163.0, 98.4, 43.0, 4.0, 4.6821, 101.0])
    x = (patient * np.random.default_rng(20240501).uniform(0.9, 1.1, size=(3, 10))).astype(np.float32)
    reference = onnx_reference(onnx_file, {"X": x})
    expect("variable" in reference, f"{onnx_file} has no output 'variable': {sorted(reference)}")
    bad = x[:, :9].copy()
    return Case(
        model=model,
        inputs=(TensorSpec("X", "FP32", (-1, 10)),),
        outputs=(TensorSpec("variable", "FP32", (-1, 1)),),
        good=(Tensor("X", "FP32", x),),
        verify=compare_to(reference, "variable"),
        bad_check="error-wrong-shape",
        bad=(Tensor("X", "FP32", bad),),
        bad_status=400,
        bad_substring="X",
    )


def digits_case(model: str, onnx_file: Path) -> Case:
    # scikit-learn's digits are 8x8 images with pixel values 0..16.
    image = np.random.default_rng(20240502).uniform(0.0, 16.0, size=(3, 1, 8, 8)).astype(np.float32)
    reference = onnx_reference(onnx_file, {"image": image})
    expect("probabilities" in reference, f"{onnx_file} has no output 'probabilities': {sorted(reference)}")
    return Case(
        model=model,
        inputs=(TensorSpec("image", "FP32", (-1, 1, 8, 8)),),
        outputs=(TensorSpec("probabilities", "FP32", (-1, 10)),),
        good=(Tensor("image", "FP32", image),),
        verify=compare_to(reference, "probabilities"),
        bad_check="error-wrong-datatype",
        bad=(Tensor("image", "INT32", image.astype(np.int32)),),
        bad_status=400,
        bad_substring="image",
    )


def check_metadata(metadata: Any, case: Case) -> str:
    expect(isinstance(metadata, dict), f"metadata is not a JSON object: {metadata!r}")
    expect(metadata.get("name") == case.model, f"metadata name: expected {case.model!r}, got {metadata.get('name')!r}")
    for key, specs in (("inputs", case.inputs), ("outputs", case.outputs)):
        listed = metadata.get(key)
        expect(isinstance(listed, list), f"metadata {key}: expected a list, got {listed!r}")
        try:
            got = {TensorSpec(t["name"], t["datatype"], tuple(t["shape"])) for t in listed}
        except (KeyError, TypeError) as e:
            raise CheckFailed(f"metadata {key}: each entry needs name, datatype, shape: {listed!r} ({e!r})") from e
        want = set(specs)
        expect(got == want, f"metadata {key}: expected {sorted(want, key=str)}, got {sorted(got, key=str)}")
    return ""


# --------------------------------------------------------------------------- running checks


@dataclass
class Tally:
    passed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


Check = tuple[str, Callable[[], str]]


def is_unreachable(error: BaseException) -> bool:
    """Connection refused, reset or timed out: the server is down or hung, not misbehaving."""
    names = {type(e).__name__ for e in (error, error.__cause__, error.__context__) if e is not None}
    unreachable = {"ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutError", "timeout"}
    return isinstance(error, (OSError, TimeoutError)) or bool(names & unreachable)


def run_checks(client: str, checks: list[Check], url: str, tally: Tally) -> None:
    """Runs one client's checks in order; when the first (server-live) cannot reach the server,
    the rest are not tried, so a server that is down fails fast with one clear message."""
    for index, (check, run) in enumerate(checks):
        try:
            detail = run()
        except CheckFailed as e:
            why = str(e)
        except Exception as e:  # noqa: BLE001 - every client error becomes a named failure
            why = f"{type(e).__name__}: {e}" if str(e) else f"{type(e).__name__} (no message)"
            if is_unreachable(e):
                why = f"server at {url} not reachable or not answering: {why}"
            elif os.environ.get("OIP_DRIVER_TRACEBACK"):
                traceback.print_exc()
        else:
            tally.passed += 1
            print(f"ok {client} {check}" + (f" {detail}" if detail else ""), flush=True)
            continue
        tally.failed.append(f"{client} {check}")
        print(f"FAIL {client} {check}: {why}", file=sys.stderr, flush=True)
        if index == 0 and len(checks) > 1:
            tally.skipped += len(checks) - 1
            print(f"FAIL {client}: its {len(checks) - 1} other checks not run because {check} failed",
                  file=sys.stderr, flush=True)
            return


# --------------------------------------------------------------------------- tritonclient


def triton_checks(url: urllib.parse.SplitResult, case: Case, timeout: float, version: str) -> list[Check]:
    import tritonclient.http as th
    from tritonclient.utils import InferenceServerException

    # tritonclient wants "host:port[/base]" without a scheme; https is its `ssl` flag.
    client = th.InferenceServerClient(
        url.netloc + url.path.rstrip("/"),
        ssl=url.scheme == "https",
        connection_timeout=timeout,
        network_timeout=timeout,
    )

    def inputs(tensors: tuple[Tensor, ...], binary: bool) -> list[Any]:
        made = []
        for t in tensors:
            one = th.InferInput(t.name, list(t.array.shape), t.datatype)
            one.set_data_from_numpy(t.array, binary_data=binary)
            made.append(one)
        return made

    def live() -> str:
        expect(client.is_server_live() is True, "GET /v2/health/live did not answer 200")
        return ""

    def ready() -> str:
        expect(client.is_server_ready() is True, "GET /v2/health/ready did not answer 200")
        return ""

    def model_ready() -> str:
        ok = client.is_model_ready(case.model, model_version=version)
        expect(ok is True, f"GET /v2/models/{case.model}/ready did not answer 200")
        return ""

    def server_metadata() -> str:
        meta = client.get_server_metadata()
        expect(isinstance(meta, dict) and "name" in meta and "version" in meta,
               f"GET /v2: expected name and version, got {meta!r}")
        return ""

    def metadata() -> str:
        return check_metadata(client.get_model_metadata(case.model, model_version=version), case)

    def infer(binary: bool) -> str:
        request_id = f"{TRITON}-{'binary' if binary else 'json'}"
        # JSON: every input and output asks for JSON. Binary: the inputs go after the JSON
        # header, and with no `outputs` the client asks for `binary_data_output: true`.
        outputs = None if binary else [th.InferRequestedOutput(o.name, binary_data=False) for o in case.outputs]
        result = client.infer(
            case.model, inputs(case.good, binary), model_version=version, outputs=outputs, request_id=request_id
        )
        response = result.get_response()
        expect(response.get("model_name") == case.model,
               f"response model_name: expected {case.model!r}, got {response.get('model_name')!r}")
        expect(response.get("id") == request_id, f"response id: expected {request_id!r}, got {response.get('id')!r}")
        decoded: Outputs = {}
        for spec in case.outputs:
            out = result.get_output(spec.name)
            if out is None:
                raise CheckFailed(f"response has no output {spec.name!r}: {response!r}")
            expect(out.get("datatype") == spec.datatype,
                   f"output {spec.name} datatype: expected {spec.datatype}, got {out.get('datatype')!r}")
            sent_binary = "binary_data_size" in (out.get("parameters") or {})
            expect(sent_binary == binary,
                   f"output {spec.name}: asked for {'binary' if binary else 'JSON'} data, the server sent "
                   f"{'binary' if sent_binary else 'JSON'} ({out!r})")
            decoded[spec.name] = result.as_numpy(spec.name)
        return case.verify(decoded)

    def expect_error(tensors: tuple[Tensor, ...], model: str, status: int, substring: str) -> str:
        try:
            client.infer(model, inputs(tensors, False), model_version=version if model == case.model else "")
        except InferenceServerException as e:
            message = e.message() or ""
            expect(e.status() == str(status), f"expected HTTP {status}, got {e.status()!r}: {message!r}")
            expect(substring in message, f"error message should contain {substring!r}: {message!r}")
            return f"{e.status()} {message!r}"
        raise CheckFailed(f"the request succeeded; expected HTTP {status} with {substring!r} in the error")

    return [
        ("server-live", live),
        ("server-ready", ready),
        ("server-metadata", server_metadata),
        ("model-ready", model_ready),
        ("model-metadata", metadata),
        ("infer-json", lambda: infer(False)),
        ("infer-binary", lambda: infer(True)),
        (case.bad_check, lambda: expect_error(case.bad, case.model, case.bad_status, case.bad_substring)),
        ("error-unknown-model", lambda: expect_error(case.good, UNKNOWN_MODEL, 404, UNKNOWN_MODEL)),
    ]


# --------------------------------------------------------------------------- kserve


def kserve_checks(
    base_url: str, case: Case, timeout: float, loop: asyncio.AbstractEventLoop
) -> tuple[list[Check], Callable[[], Awaitable[None]]]:
    import httpx
    from kserve.inference_client import InferenceRESTClient, RESTConfig
    from kserve.protocol.infer_type import InferInput, InferRequest

    # retries=0: a refused connection should fail at once (RESTConfig drops `retries` anyway).
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=timeout, retries=0))

    def run(coroutine: Awaitable[T]) -> T:
        # httpx has its own timeout; this one also bounds anything it does not cover.
        return loop.run_until_complete(asyncio.wait_for(coroutine, timeout + 2.0))

    def request(tensors: tuple[Tensor, ...], model: str, binary: bool, request_id: str) -> Any:
        made = []
        for t in tensors:
            one = InferInput(t.name, list(t.array.shape), t.datatype)
            one.set_data_from_numpy(t.array, binary_data=binary)
            made.append(one)
        # Binary: inputs after the JSON header (octet-stream, Inference-Header-Content-Length)
        # and the request-level `binary_data_output` parameter for binary outputs.
        parameters = {"binary_data_output": True} if binary else None
        return InferRequest(model_name=model, infer_inputs=made, request_id=request_id, parameters=parameters)

    def live() -> str:
        expect(run(client.is_server_live(base_url)) is True, 'GET /v2/health/live: expected {"live": true}')
        return ""

    def ready() -> str:
        expect(run(client.is_server_ready(base_url)) is True, 'GET /v2/health/ready: expected {"ready": true}')
        return ""

    def model_ready() -> str:
        expect(run(client.is_model_ready(base_url, case.model)) is True,
               f"GET /v2/models/{case.model}/ready did not answer 2xx")
        return ""

    async def get_metadata() -> Any:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(f"{base_url.rstrip('/')}/v2/models/{case.model}")
            expect(response.status_code == 200,
                   f"GET /v2/models/{case.model}: HTTP {response.status_code} {response.text!r}")
            return response.json()

    def metadata() -> str:
        check_metadata(run(get_metadata()), case)
        return "(plain httpx GET: InferenceRESTClient has no metadata call)"

    def infer(binary: bool) -> str:
        request_id = f"{KSERVE}-{'binary' if binary else 'json'}"
        headers: dict[str, str] = {}
        response = run(client.infer(base_url, request(case.good, case.model, binary, request_id),
                                    model_name=case.model, response_headers=headers))
        headers = {k.lower(): v for k, v in headers.items()}
        expect(response.model_name == case.model,
               f"response model_name: expected {case.model!r}, got {response.model_name!r}")
        expect(response.id == request_id, f"response id: expected {request_id!r}, got {response.id!r}")
        # kserve folds binary outputs back into `data`, so the header is what tells them apart.
        sent_binary = "inference-header-content-length" in headers
        expect(sent_binary == binary,
               f"asked for {'binary' if binary else 'JSON'} outputs, the response "
               f"{'has' if sent_binary else 'has no'} Inference-Header-Content-Length (headers {headers!r})")
        by_name = {o.name: o for o in response.outputs}
        decoded: Outputs = {}
        for spec in case.outputs:
            out = by_name.get(spec.name)
            if out is None:
                raise CheckFailed(f"response has no output {spec.name!r}; outputs {sorted(by_name)}")
            expect(out.datatype == spec.datatype,
                   f"output {spec.name} datatype: expected {spec.datatype}, got {out.datatype!r}")
            decoded[spec.name] = out.as_numpy()
        return case.verify(decoded)

    def expect_error(tensors: tuple[Tensor, ...], model: str, status: int, substring: str) -> str:
        try:
            run(client.infer(base_url, request(tensors, model, False, f"{KSERVE}-error"), model_name=model))
        except httpx.HTTPStatusError as e:
            # The SDK puts the body's "error" into the message only when Content-Type is exactly
            # application/json; otherwise the message is just the status line and the URL.
            message = str(e)
            content_type = e.response.headers.get("content-type")
            expect(e.response.status_code == status,
                   f"expected HTTP {status}, got {e.response.status_code}: {message!r}")
            expect(substring in message,
                   f"error message should contain {substring!r}: {message!r} (the SDK copies the body's "
                   f"\"error\" only under Content-Type exactly application/json; this one was "
                   f"{content_type!r}, body {e.response.text[:200]!r})")
            return f"{e.response.status_code} {message!r}"
        raise CheckFailed(f"the request succeeded; expected HTTP {status} with {substring!r} in the error")

    return [
        ("server-live", live),
        ("server-ready", ready),
        ("model-ready", model_ready),
        ("model-metadata", metadata),
        ("infer-json", lambda: infer(False)),
        ("infer-binary", lambda: infer(True)),
        (case.bad_check, lambda: expect_error(case.bad, case.model, case.bad_status, case.bad_substring)),
        ("error-unknown-model", lambda: expect_error(case.good, UNKNOWN_MODEL, 404, UNKNOWN_MODEL)),
    ], client.close


# --------------------------------------------------------------------------- main


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--case", required=True, choices=["echo", "regression", "digits"])
    parser.add_argument("--model", help="model name (default: echo, diabetes, digits_cnn)")
    parser.add_argument("--onnx-file", type=Path, help="the ONNX file the server serves (regression, digits)")
    parser.add_argument("--model-version", default="", help="tritonclient only: use /versions/V routes")
    parser.add_argument("--clients", default=f"{TRITON},{KSERVE}", help="comma-separated subset to run")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for each client call")
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds for the whole run")
    return parser.parse_args(argv)


def on_deadline(seconds: float) -> Callable[[int, FrameType | None], None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        sys.stdout.flush()
        sys.stderr.write(f"FAIL deadline: the run took longer than {seconds:g}s; a client call hung\n")
        sys.stderr.flush()
        os._exit(3)

    return handler


def client_checks(
    name: str, args: argparse.Namespace, case: Case, loop: asyncio.AbstractEventLoop
) -> tuple[list[Check], Callable[[], None]]:
    """One client's checks and how to close it afterwards."""
    if name == TRITON:
        return triton_checks(urllib.parse.urlsplit(args.url), case, args.timeout, args.model_version), lambda: None
    checks, close_async = kserve_checks(args.url, case, args.timeout, loop)
    return checks, lambda: loop.run_until_complete(close_async())


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.netloc:
        print(f"FAIL arguments: --url must look like http://HOST:PORT, got {args.url!r}", file=sys.stderr)
        return 2
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = sorted(set(clients) - {TRITON, KSERVE})
    if unknown or not clients:
        print(f"FAIL arguments: --clients takes {TRITON} and/or {KSERVE}, got {args.clients!r}", file=sys.stderr)
        return 2

    signal.signal(signal.SIGALRM, on_deadline(args.deadline))
    signal.setitimer(signal.ITIMER_REAL, args.deadline)

    model = args.model or {"echo": "echo", "regression": "diabetes", "digits": "digits_cnn"}[args.case]
    try:
        if args.case == "echo":
            case = echo_case(model)
        else:
            if args.onnx_file is None or not args.onnx_file.is_file():
                print(f"FAIL arguments: --case {args.case} needs --onnx-file pointing at the served model "
                      f"(got {args.onnx_file})", file=sys.stderr)
                return 2
            case = (regression_case if args.case == "regression" else digits_case)(model, args.onnx_file)
    except ImportError as e:
        print(f"FAIL setup: {e}; run with the venv built from scripts/venvs/oip-clients.txt", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a broken ONNX file is a setup error, said plainly
        print(f"FAIL setup: onnxruntime could not run {args.onnx_file}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2

    tally = Tally()
    loop = asyncio.new_event_loop()
    try:
        for name in clients:
            try:
                checks, close = client_checks(name, args, case, loop)
            except ImportError as e:
                print(f"FAIL setup: {e}; run with the venv built from scripts/venvs/oip-clients.txt",
                      file=sys.stderr)
                return 2
            run_checks(name, checks, args.url, tally)
            close()
    finally:
        loop.close()

    print(f"{tally.passed} passed, {len(tally.failed)} failed, {tally.skipped} skipped", flush=True)
    if tally.failed:
        not_run = f" ({tally.skipped} more not run)" if tally.skipped else ""
        print(f"FAIL summary: {len(tally.failed)} failed{not_run}: " + "; ".join(tally.failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
