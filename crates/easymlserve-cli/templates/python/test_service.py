"""Tests the running `{{name}}` service over HTTP, as a caller would: start it first (see README.md),
then `python test_service.py` (or `pytest test_service.py`). `EASYMLSERVE_URL` says where it runs
[default: http://127.0.0.1:8000]. Only the standard library: nothing to install."""

import json
import os
import unittest
import urllib.error
import urllib.request

URL = os.environ.get("EASYMLSERVE_URL", "http://127.0.0.1:8000").rstrip("/")


def post(body):
    """`POST /process` with `body`; returns the status and the decoded answer."""
    request = urllib.request.Request(
        f"{URL}/process", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


class ServiceTest(unittest.TestCase):
    def test_predicts(self):
        self.assertEqual(post({"study_hours": 6, "sleep_hours": 8}), (200, {"score": 63.0}))

    def test_sleep_hours_has_a_default(self):
        self.assertEqual(post({"study_hours": 0}), (200, {"score": 36.0}))

    def test_a_value_over_its_bound_is_refused_naming_the_field(self):
        status, answer = post({"study_hours": 20})
        self.assertEqual(status, 422)
        self.assertEqual(answer["field"], "study_hours")

    def test_the_gui_is_served(self):
        with urllib.request.urlopen(f"{URL}/ui/", timeout=30) as page:
            self.assertEqual(page.status, 200)


if __name__ == "__main__":
    unittest.main()
