"""Why this exists: the in-process side of the worker-overhead measure in bench/compare.py. Times the echo
service of echo_service.py called directly, without any server, and prints one JSON line:
- `process_us`: `process(EchoRequest(...))` alone, the model's own time;
- `sdk_us`: what the worker does per request apart from the socket: the SDK's Runner validating the JSON
  input into the request model, calling `process`, turning the result into JSON data, and json
  dumps/loads of the frames' bodies.
Both are the median over `--rounds` rounds of `--calls` calls. Run with PYTHONPATH=python (the SDK of this
checkout) and bench/python on sys.path: `python bench/python/echo_inprocess.py`.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from echo_service import Echo, EchoRequest  # noqa: E402

from easymlserve.context import Context  # noqa: E402
from easymlserve.runner import Runner, outcome_message  # noqa: E402

BODY = {"text": "hello ", "repeat": 3}


def per_call_us(work, calls: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        samples.append((time.perf_counter() - started) * 1e6 / calls)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    service = Echo()
    service.load_model()
    request = EchoRequest(**BODY)
    runner = Runner(service)
    frame = json.dumps({"type": "predict", "id": "r1", "input": BODY, "deadline_ms": None}).encode()

    def through_sdk():
        message = json.loads(frame)
        outcome = runner.run(message["input"], Context(message["id"]))
        json.dumps(outcome_message(message["id"], outcome)).encode()

    assert service.process(request).text == "hello hello hello "
    result = {
        "process_us": per_call_us(lambda: service.process(request), args.calls, args.rounds),
        "sdk_us": per_call_us(through_sdk, args.calls, args.rounds),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
