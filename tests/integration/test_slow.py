#!/usr/bin/env python3
"""Nothing blocks the loop: a slow policy server does not slow the API, and
FETCH_TIMEOUT_SECONDS bounds a fetch."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import POLICY, ServiceTestCase  # noqa: E402


class SlowPolicy(ServiceTestCase):
    def test_api_answers_while_fetch_is_slow(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=5.0)
        svc = self.make_service(self.default_config(POLICY_URL=slow, FETCH_TIMEOUT_SECONDS=30))

        result = {}

        def post():
            try:
                result["r"] = svc.upgrade("DASHBOARD", "latest", current="3.0.0", timeout=30)
            except Exception as e:  # reported below
                result["e"] = e

        t0 = time.monotonic()
        th = threading.Thread(target=post)
        th.start()
        self.addCleanup(th.join, 30)
        svc.wait_state(("POLICY_FETCHING",), timeout=3)

        timings = []
        for i in range(6):
            for path in ("/health", "/upgrade/status", "/upgrade/logs"):
                t = time.monotonic()
                r = svc.request("GET", path, timeout=2)
                dt = time.monotonic() - t
                timings.append((path, dt))
                self.assertEqual(r.status, 200)
                if path == "/upgrade/status":
                    self.assertEqual(r.json()["state"], "POLICY_FETCHING")
            time.sleep(0.25)
        self.assertLess(time.monotonic() - t0, 5.0, "the probes themselves took the whole delay")
        slowest = max(timings, key=lambda x: x[1])
        self.assertLess(slowest[1], 0.5, "slowest answer during the fetch: %r" % (slowest,))

        th.join(30)
        self.assertNotIn("e", result, result.get("e"))
        r = result["r"]
        self.assertEqual(r.status, 201, r)
        self.assertGreaterEqual(time.monotonic() - t0, 4.5)
        self.assertEqual(svc.status()["state"], "READY")

    def test_fetch_timeout(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=5.0)
        svc = self.make_service(self.default_config(POLICY_URL=slow, FETCH_TIMEOUT_SECONDS=1))
        t0 = time.monotonic()
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0", timeout=10)
        dt = time.monotonic() - t0
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_FETCH_FAILED")
        self.assertGreaterEqual(dt, 0.9)
        self.assertLess(dt, 2.5, "FETCH_TIMEOUT_SECONDS=1 took %.2f s" % dt)

    def test_manifest_timeout(self):
        slow = self.fake.serve_file("/m.json", harness.MANIFEST, delay=5.0)
        svc = self.make_service(self.default_config(RUNTIME_MANIFEST_URL=slow, FETCH_TIMEOUT_SECONDS=1))
        t0 = time.monotonic()
        r = svc.upgrade("MANUAL", "3.2.0", timeout=10)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "MANIFEST_FETCH_FAILED")
        self.assertLess(time.monotonic() - t0, 2.5)


if __name__ == "__main__":
    harness.main()
