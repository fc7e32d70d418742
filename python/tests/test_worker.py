"""End to end: a real worker subprocess on a socket this test listens on, spoken to as the Rust server
speaks to it (docs/worker-protocol.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Dict

from conftest import StartWorker
from harness import PYTHON_DIR, SERVICES, WorkerHarness


def ready(worker: WorkerHarness) -> Dict[str, Any]:
    message = worker.start()
    assert message["type"] == "ready", message
    return message


def predict(worker: WorkerHarness, request_id: str, data: Dict[str, Any], **extra: Any) -> None:
    worker.send({"type": "predict", "id": request_id, "input": data, "deadline_ms": 59000, **extra})


def test_ready_reports_the_spec(start_worker: StartWorker) -> None:
    message = ready(start_worker("counter.py"))
    assert message["info"] == {
        "name": "Counter",
        "version": "1.2.3",
        "description": "Counts to `steps`, reporting progress at each step.",
    }
    assert message["capabilities"] == {"batching": True, "progress": True, "cancellation": True}
    assert message["example_request"] == {"steps": 2, "points": [], "mode": "count"}
    schema = message["request_schema"]
    assert schema["type"] == "object"
    assert schema["properties"]["steps"]["minimum"] == 0
    assert schema["properties"]["steps"]["maximum"] == 100
    assert set(message["response_schema"]["required"]) == {"steps_done", "request_id", "loaded"}


def test_predict_sends_progress_in_order_then_done(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    predict(worker, "req-1", {"steps": 4})
    messages = worker.recv_until("done")
    assert [m["type"] for m in messages] == ["progress"] * 4 + ["done"]
    assert [m["fraction"] for m in messages[:4]] == [0.25, 0.5, 0.75, 1.0]
    assert [m["message"] for m in messages[:4]] == ["step 1", "step 2", "step 3", "step 4"]
    assert all(m["id"] == "req-1" for m in messages)
    assert messages[-1]["output"] == {"steps_done": 4, "request_id": "req-1", "loaded": True}


def test_failures(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)

    predict(worker, "invalid", {"steps": 0, "mode": "invalid"})
    failed = worker.recv()
    assert failed == {
        "type": "failed", "id": "invalid", "status": 422, "error_type": "invalid_input",
        "message": "steps must be even here", "field": "steps", "traceback": None,
    }

    predict(worker, "http", {"steps": 0, "mode": "http"})
    failed = worker.recv()
    assert (failed["status"], failed["error_type"]) == (404, "http_404")
    assert json.loads(failed["message"]) == {"reason": "no such thing"}

    predict(worker, "crash", {"steps": 0, "mode": "crash"})
    failed = worker.recv()
    assert (failed["status"], failed["error_type"], failed["message"]) == (500, "model_error", "the model failed")
    assert "ZeroDivisionError: division by zero" in failed["traceback"]
    assert "counter.py" in failed["traceback"]

    predict(worker, "nan", {"steps": 0, "mode": "nan"})
    failed = worker.recv()
    assert (failed["status"], failed["error_type"]) == (500, "model_error")
    assert "NaN" in failed["message"] or "nan" in failed["message"]
    assert "`value`" in failed["message"]

    predict(worker, "bad-field", {"points": [{"lat": 1}, {"lat": 100}]})
    failed = worker.recv()
    assert (failed["status"], failed["error_type"], failed["field"]) == (422, "validation_error", "points[1].lat")
    assert failed["message"].startswith("`points[1].lat`: ")

    predict(worker, "huge", {"steps": 0, "mode": "huge"})
    failed = worker.recv()
    assert (failed["id"], failed["status"], failed["error_type"]) == ("huge", 500, "model_error")
    assert "over the 67108864-byte frame limit" in failed["message"]

    # The worker carries on after every failure.
    predict(worker, "after", {"steps": 0})
    assert worker.recv()["type"] == "done"


def test_cancel_stops_a_running_request(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    predict(worker, "long", {"steps": 0, "mode": "wait_for_cancel"})
    waiting = worker.recv()
    assert waiting == {"type": "progress", "id": "long", "fraction": None, "message": "waiting for cancel"}
    # The main thread still answers while the model runs.
    worker.send({"type": "ping"})
    assert worker.recv() == {"type": "pong"}
    worker.send({"type": "cancel", "id": "long"})
    assert worker.recv() == {"type": "cancelled", "id": "long"}
    predict(worker, "next", {"steps": 1})
    assert worker.recv_until("done")[-1]["output"]["request_id"] == "next"


def test_cancel_of_a_queued_request(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    predict(worker, "first", {"steps": 0, "mode": "sleep"})
    predict(worker, "second", {"steps": 0})
    worker.send({"type": "cancel", "id": "second"})
    worker.send({"type": "cancel", "id": "unknown"})  # ignored
    assert worker.recv()["id"] == "first"
    assert worker.recv() == {"type": "cancelled", "id": "second"}


def test_predict_batch(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    worker.send({"type": "predict_batch", "id": "b1", "inputs": [{"steps": 2}, {"steps": 13}, {"steps": "x"}]})
    message = worker.recv()
    assert message["type"] == "done_batch"
    assert message["id"] == "b1"
    first, second, third = message["outputs"]
    assert first == {"output": {"steps_done": 2}}
    assert second["error"] == {
        "status": 422, "error_type": "invalid_input", "message": "13 is unlucky", "field": "steps", "traceback": None,
    }
    assert (third["error"]["status"], third["error"]["error_type"], third["error"]["field"]) == (422, "validation_error", "steps")


def test_shutdown_says_bye_and_exits_0(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    worker.send({"type": "ping"})
    assert worker.recv() == {"type": "pong"}
    worker.send({"type": "shutdown"})
    assert worker.recv() == {"type": "bye"}
    assert worker.wait() == 0
    assert worker.at_eof()


def test_shutdown_during_a_request_answers_it_first(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    predict(worker, "slow", {"steps": 0, "mode": "sleep"})
    worker.send({"type": "shutdown"})  # read by the watcher while the model sleeps
    assert worker.recv()["id"] == "slow"
    assert worker.recv() == {"type": "bye"}
    assert worker.wait() == 0


def test_back_to_back_requests_and_pings_each_answered_once(start_worker: StartWorker) -> None:
    # Each request arrives as the previous answer leaves, when the reading passes between the model
    # thread and the watcher: nothing may be lost, doubled or reordered in that hand-over.
    worker = start_worker("counter.py")
    ready(worker)
    for i in range(300):
        predict(worker, f"r{i}", {"steps": 0})
        if i % 3 == 0:
            worker.send({"type": "ping"})
        answers = [worker.recv() for _ in range(2 if i % 3 == 0 else 1)]
        ids = sorted(a.get("id", "pong") for a in answers if a["type"] in ("done", "pong"))
        assert ids == sorted([f"r{i}"] + (["pong"] if i % 3 == 0 else [])), answers


def test_worker_exits_when_the_server_goes_away(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    assert worker.conn is not None
    worker.conn.close()
    worker.conn = None
    worker.wait(timeout=10)
    assert not worker.group_alive()


def test_worker_exits_at_eof_during_a_request(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    predict(worker, "long", {"steps": 0, "mode": "wait_for_cancel"})
    assert worker.recv()["type"] == "progress"
    assert worker.conn is not None
    worker.conn.close()
    worker.conn = None
    worker.wait(timeout=10)


def test_unknown_message_type_is_a_protocol_error(start_worker: StartWorker) -> None:
    worker = start_worker("counter.py")
    ready(worker)
    worker.send({"type": "reboot"})
    assert worker.wait() == 3
    assert "unknown message type 'reboot'" in worker.stderr()


def test_setup_failed_when_load_model_raises(start_worker: StartWorker) -> None:
    worker = start_worker("failing_load.py")
    message = worker.start()
    assert message["type"] == "setup_failed"
    assert message["error"] == "FileNotFoundError: no model file at models/missing.pkl"
    assert "in load_model" in message["traceback"]
    assert message["traceback"].rstrip().endswith(message["error"])
    assert worker.wait() == 1


def test_setup_failed_names_the_candidates(start_worker: StartWorker) -> None:
    worker = start_worker("two_services.py")
    message = worker.start()
    assert message["type"] == "setup_failed"
    assert "First, Second" in message["error"]
    assert "two_services.py:First" in message["error"]
    assert worker.wait() == 1


def test_a_named_class_is_served(start_worker: StartWorker) -> None:
    worker = start_worker("two_services.py:Second")
    assert ready(worker)["info"]["name"] == "Second"
    predict(worker, "r", {})
    assert worker.recv()["output"] == {"which": "second"}


def test_setup_failed_for_a_missing_file(start_worker: StartWorker) -> None:
    worker = start_worker("no_such_service.py")
    message = worker.start()
    assert message["type"] == "setup_failed"
    assert message["error"].startswith("FileNotFoundError: the service file ")
    assert worker.wait() == 1


def test_prints_go_to_stdout_not_the_socket(start_worker: StartWorker) -> None:
    worker = start_worker("printing.py")
    message = ready(worker)
    assert message["request_schema"] == {"type": "object"}
    assert message["response_schema"] == {}
    assert message["capabilities"] == {"batching": False, "progress": False, "cancellation": False}
    predict(worker, "p", {"a": 1})
    assert worker.recv() == {"type": "done", "id": "p", "output": {"echo": {"a": 1}}}
    worker.send({"type": "shutdown"})
    assert worker.recv() == {"type": "bye"}
    assert worker.wait() == 0
    stdout = worker.stdout()
    assert "loading the model\n" in stdout
    assert "processing {'a': 1}\n" in stdout
    assert "a warning on stderr" in worker.stderr()


def test_original_style_service(start_worker: StartWorker) -> None:
    worker = start_worker("original_style/service.py")
    message = ready(worker)
    assert message["info"] == {"name": "ForecastingService", "version": "0.1.0", "description": "Service to forecast with several models."}
    assert message["capabilities"] == {"batching": False, "progress": False, "cancellation": False}
    assert message["request_schema"]["required"] == ["models", "energy"]
    assert "forecasts" in message["response_schema"]["properties"]
    predict(worker, "o1", {"models": ["LR", "RF"], "energy": [1.0, 2.0]})
    output = worker.recv()["output"]
    # The instance built under `__main__` (scale=10) is served, loaded once, its tuple sent as a list.
    assert output == {
        "forecasts": [{"model": "LR", "energy": [10.0, 20.0]}, {"model": "RF", "energy": [20.0, 40.0]}],
        "shape": [2, 2],
        "loads": 1,
    }
    predict(worker, "o2", {"models": ["XGB"], "energy": [1.0]})
    failed = worker.recv()
    assert (failed["status"], failed["error_type"], failed["message"]) == (404, "http_404", "Unknown model")


def test_original_style_service_deployed_at_import(start_worker: StartWorker) -> None:
    worker = start_worker("original_style/unguarded.py")
    message = ready(worker)
    assert message["info"]["name"] == "Greeter"
    predict(worker, "g", {"name": "Ada"})
    assert worker.recv()["output"] == {"text": "Hello, Ada"}


def test_worker_without_its_environment_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EASYMLSERVE_")}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    done = subprocess.run(
        [sys.executable, "-m", "easymlserve.worker"], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "EASYMLSERVE_WORKER_SOCKET and EASYMLSERVE_SERVICE not set" in done.stderr


def test_python_service_py_execs_the_server(tmp_path: Any) -> None:
    """`python service.py` of an original-style file replaces itself with `easymlserve serve`, the keys in
    its environment and not on its command line."""
    record = tmp_path / "record.json"
    fake = tmp_path / "easymlserve"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv, 'keys': os.environ.get('EASYMLSERVE_API_KEYS')}}, open({str(record)!r}, 'w'))\n"
    )
    fake.chmod(0o755)
    env = dict(os.environ, EASYMLSERVE_BIN=str(fake), PYTHONPATH=str(PYTHON_DIR))
    script = SERVICES / "original_style" / "service.py"
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    seen = json.loads(record.read_text())
    assert seen["argv"][1:] == [
        "serve", "--python", str(script), "--host", "0.0.0.0", "--port", "8100", "--python-bin", sys.executable,
    ]
    assert seen["keys"] == "key-1,key-2"


def test_python_service_py_without_the_server_binary(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EASYMLSERVE_BIN"}
    env.update(PATH=str(tmp_path), PYTHONPATH=str(PYTHON_DIR))
    script = SERVICES / "original_style" / "service.py"
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "DeployError" in done.stderr
    assert "EASYMLSERVE_BIN" in done.stderr
