#!/usr/bin/env python3
"""Crashes and restarts: a job cut short by kill -9 or SIGTERM ends FAILED
with INTERRUPTED, finished jobs survive a restart, and a corrupt state file
never stops the service from starting."""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import POLICY, ServiceTestCase  # noqa: E402


def restart(svc):
    """Starts the service again on the same STATE_DIR/LOG_DIR (new port:
    the old one may linger in TIME_WAIT)."""
    svc.port = harness.free_port()
    svc.start()


class Crash(ServiceTestCase):
    def start_slow_job(self, delay=30.0):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=delay)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0", headers={"Prefer": "respond-async"})
        self.assertEqual(r.status, 202, r)
        svc.wait_state(("POLICY_FETCHING",), timeout=5)
        # Wait until the fetch reached the policy server: the job is mid-flight.
        deadline = time.monotonic() + 5
        while not self.fake.hits and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(self.fake.hits, "the job never fetched the policy")
        return svc, r.json()["job_id"]

    def test_kill9_during_job_then_restart(self):
        svc, job_id = self.start_slow_job()
        before = svc.logs()
        self.assertGreaterEqual(len(before), 2, before)
        svc.signal(signal.SIGKILL)
        svc.wait(10)
        svc.kill()  # bookkeeping only

        # Make the next job fast.
        self.fake.serve_file("/slow.json", POLICY)
        restart(svc)
        st = svc.status()
        self.assertEqual(st["job_id"], job_id)
        self.assertEqual(st["state"], "FAILED", st)
        self.assertEqual(st["error_code"], "INTERRUPTED", st)
        self.assertTrue(st["error_message"])
        logs = svc.logs()
        self.assertLogsWellFormed(logs)
        msgs = [e["message"] for e in logs]
        self.assertEqual(msgs[:len(before)], [e["message"] for e in before], "earlier entries lost")
        self.assertGreater(len(logs), len(before), "no interruption entry")
        self.assertTrue(any(e["level"] == "error" for e in logs[len(before):]), logs)

        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertEqual(r.status, 201, r)
        self.assertNotEqual(r.json()["job_id"], job_id)
        self.assertEqual(svc.status()["state"], "READY")

    def test_kill9_twice_stays_interrupted(self):
        # A second crash right after recovery must not wedge or un-fail the job.
        svc, job_id = self.start_slow_job()
        svc.signal(signal.SIGKILL)
        svc.wait(10)
        svc.kill()
        restart(svc)
        n_logs = len(svc.logs())
        svc.signal(signal.SIGKILL)
        svc.wait(10)
        svc.kill()
        restart(svc)
        st = svc.status()
        self.assertEqual((st["job_id"], st["state"], st["error_code"]), (job_id, "FAILED", "INTERRUPTED"))
        self.assertEqual(len(svc.logs()), n_logs, "recovery of an already failed job logged again")

    def test_restart_after_ready_keeps_job(self):
        svc = self.make_service()
        r = svc.upgrade("DASHBOARD", "latest", current="2.0.5")
        self.assertEqual(r.status, 201, r)
        job = r.json()
        logs = svc.logs()
        self.assertEqual(svc.stop(), 0)
        restart(svc)
        st = svc.status()
        self.assertEqual(st["job_id"], job["job_id"])
        self.assertEqual(st["state"], "READY")
        self.assertEqual(st["resolved_target"], "3.3.0")
        self.assertEqual(st["created_at"], job["created_at"])
        self.assertEqual(svc.logs(), logs)

    def test_sigterm_during_job(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=30)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        result = {}

        def post():
            try:
                result["r"] = svc.upgrade("DASHBOARD", "latest", current="3.0.0", timeout=20)
            except Exception as e:
                result["e"] = e

        th = threading.Thread(target=post)
        th.start()
        self.addCleanup(th.join, 20)
        svc.wait_state(("POLICY_FETCHING",), timeout=5)
        deadline = time.monotonic() + 5
        while not self.fake.hits and time.monotonic() < deadline:
            time.sleep(0.02)
        t0 = time.monotonic()
        svc.signal(signal.SIGTERM)
        rc = svc.wait(10)
        self.assertLess(time.monotonic() - t0, 6.0)
        th.join(10)
        self.assertEqual(rc, 0, svc.stderr())
        self.assertNotIn("e", result, result.get("e"))
        r = result["r"]
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["state"], "FAILED")
        self.assertEqual(r.json()["error_code"], "INTERRUPTED")
        svc.kill()

        # The interruption was persisted.
        self.fake.serve_file("/slow.json", POLICY)
        restart(svc)
        st = svc.status()
        self.assertEqual((st["state"], st["error_code"]), ("FAILED", "INTERRUPTED"))
        self.assertEqual(st["job_id"], r.json()["job_id"])

    def test_sigterm_answer_announces_close(self):
        # The service closes the connection right after answering the waiting
        # POST, so that answer must say "Connection: close" (RFC 9112 9.6),
        # not "keep-alive": a client reusing the connection would lose its
        # next request.
        slow = self.fake.serve_file("/slow.json", POLICY, delay=30)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        with svc.conn(timeout=20) as c:
            c.send(harness.build_request("POST", "/upgrade", {"mode": "MANUAL", "requested_target": "3.2.0"}))
            svc.wait_state(("POLICY_FETCHING",), timeout=5)
            deadline = time.monotonic() + 5
            while not self.fake.hits and time.monotonic() < deadline:
                time.sleep(0.02)
            svc.signal(signal.SIGTERM)
            r = c.read_response(timeout=10)
            self.assertEqual(r.status, 422, r)
            self.assertEqual(r.json()["error_code"], "INTERRUPTED")
            self.assertTrue(c.is_closed_by_peer(5))
            self.assertEqual(r.header("Connection", "").lower(), "close",
                             "answer says keep-alive although the service closes the connection")
        self.assertEqual(svc.wait(10), 0)

    def test_sigterm_idle_exits_zero(self):
        svc = self.make_service()
        with svc.conn() as c:  # an idle keep-alive connection must not hold the exit up
            self.assertEqual(c.request("GET", "/health").status, 200)
            t0 = time.monotonic()
            self.assertEqual(svc.stop(), 0)
            self.assertLess(time.monotonic() - t0, 3.0)

    def corrupt_and_restart(self, svc, data):
        jobs = os.path.join(svc.state_dir, "jobs")
        files = [f for f in os.listdir(jobs) if f.endswith(".json")]
        self.assertTrue(files, os.listdir(jobs))
        for f in files:
            with open(os.path.join(jobs, f), "wb") as fh:
                fh.write(data)
        restart(svc)
        r = svc.request("GET", "/health")
        self.assertEqual(r.status, 200)
        st = svc.status()
        self.assertIn(st["state"], ("IDLE", "READY", "FAILED"), st)
        r = svc.upgrade("MANUAL", "3.2.0")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(svc.status()["job_id"], r.json()["job_id"])

    def test_corrupt_state_file_garbage(self):
        svc = self.make_service()
        self.assertEqual(svc.upgrade("MANUAL", "3.3.0").status, 201)
        self.assertEqual(svc.stop(), 0)
        self.corrupt_and_restart(svc, b"\x00\x01garbage{{{ not json \xff" * 10)

    def test_corrupt_state_file_wrong_json(self):
        svc = self.make_service()
        self.assertEqual(svc.upgrade("MANUAL", "3.3.0").status, 201)
        self.assertEqual(svc.stop(), 0)
        self.corrupt_and_restart(svc, b'{"state":"BOGUS","job_id":"../../etc/passwd","mode":7}')

    def test_corrupt_state_file_empty_and_current_garbage(self):
        svc = self.make_service()
        self.assertEqual(svc.upgrade("MANUAL", "3.3.0").status, 201)
        self.assertEqual(svc.stop(), 0)
        with open(os.path.join(svc.state_dir, "current"), "wb") as f:
            f.write(b"\xff" * 5000)
        self.corrupt_and_restart(svc, b"")


if __name__ == "__main__":
    harness.main()
