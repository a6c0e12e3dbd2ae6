#!/usr/bin/env python3
"""Configuration reload (SIGHUP) with the sd_notify handshake, refusal of an
invalid file, and start-up with an invalid file."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import MANIFEST, POLICY, POLICY_BF2FCA9, ServiceTestCase, file_url  # noqa: E402


def lines(msg):
    return msg.split("\n")


class Reload(ServiceTestCase):
    def reload(self, svc):
        """Sends SIGHUP; returns the notify datagrams from RELOADING=1 to
        the READY=1 that follows it."""
        since = len(svc.notify_lines())
        svc.signal(signal.SIGHUP)
        i = svc.wait_notify(lambda m: "RELOADING=1" in lines(m), since=since, timeout=5)
        j = svc.wait_notify(lambda m: "READY=1" in lines(m), since=i, timeout=5)
        msgs = [m for _, m in svc.notify_lines()]
        return msgs[i], msgs[i:j + 1]

    def test_valid_reload_switches_policy(self):
        svc = self.make_service()
        pid = svc.pid
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["resolved_target"], "3.3.0")

        svc.write_config(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9)))
        t_before = time.monotonic_ns() // 1000
        reloading, seq = self.reload(svc)
        t_after = time.monotonic_ns() // 1000
        mono = [l for l in lines(reloading) if l.startswith("MONOTONIC_USEC=")]
        self.assertEqual(len(mono), 1, reloading)
        usec = int(mono[0].split("=", 1)[1])
        # CLOCK_MONOTONIC is system-wide: the stamp lies around the signal.
        self.assertGreaterEqual(usec, t_before - 1000)
        self.assertLessEqual(usec, t_after + 1000)
        self.assertIn("READY=1", lines(seq[-1]))

        self.assertTrue(svc.alive())
        self.assertEqual(svc.pid, pid)
        self.assertEqual(svc.request("GET", "/health").status, 200)
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["resolved_target"], "2.0.0")
        self.assertEqual(r.json()["error_code"], "MANUAL_UPGRADE_REQUIRED")
        self.assertIn("reloaded", svc.stderr().lower())

    def check_refused(self, bad_config, key):
        svc = self.make_service()
        svc.write_config(bad_config)
        _, seq = self.reload(svc)
        self.assertIn("READY=1", lines(seq[-1]))
        self.assertTrue(svc.alive())
        # The refusal names the key (poll: stderr is written asynchronously).
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and key not in svc.stderr():
            time.sleep(0.05)
        refusal = [l for l in svc.stderr().splitlines() if key in l]
        self.assertTrue(refusal, svc.stderr())
        self.assertTrue(any("refus" in l.lower() for l in refusal), refusal)
        # The old configuration (real policy, latest 3.3.0) is still in effect.
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["resolved_target"], "3.3.0")
        return svc

    def test_reload_command_waits_and_reports(self):
        """`payram-updater reload --pid` (the unit's ExecReload=) returns
        only once the new file is in effect, and fails when it is refused."""
        svc = self.make_service()
        svc.write_config(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9)))
        p = subprocess.run([harness.BINARY, "reload", "--pid", str(svc.pid)], capture_output=True, text=True,
                           timeout=40)
        self.assertEqual(p.returncode, 0, p.stderr)
        # No waiting: the very next job already sees the new policy.
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual((r.status, r.json()["resolved_target"]), (422, "2.0.0"), r)

        svc.write_config(self.default_config(FETCH_TIMEOUT_SECONDS="ten"))
        p = subprocess.run([harness.BINARY, "reload", "--pid", str(svc.pid)], capture_output=True, text=True,
                           timeout=40)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("refused", p.stderr)
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual((r.status, r.json()["resolved_target"]), (422, "2.0.0"), r)

        p = subprocess.run([harness.BINARY, "reload"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_reload_refuses_bad_port(self):
        self.check_refused(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9), UPDATER_PORT=70000),
                           "UPDATER_PORT")

    def test_reload_refuses_bad_timeout(self):
        self.check_refused(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9), FETCH_TIMEOUT_SECONDS="ten"),
                           "FETCH_TIMEOUT_SECONDS")

    def test_reload_refuses_syntax_error_then_accepts_fixed(self):
        svc = self.check_refused("POLICY_URL=%s\nthis line has no equals sign\n" % file_url(POLICY_BF2FCA9),
                                 "updater.env")
        svc.write_config(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9)))
        self.reload(svc)
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["resolved_target"], "2.0.0")

    def test_reload_during_job_keeps_job_config(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=1.5)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        r = svc.upgrade("DASHBOARD", "latest", headers={"Prefer": "respond-async"})
        self.assertEqual(r.status, 202, r)
        svc.write_config(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9)))
        self.reload(svc)
        st = svc.wait_state(("READY", "FAILED"), timeout=10)
        # The running job keeps the policy it started with.
        self.assertEqual((st["state"], st["resolved_target"]), ("READY", "3.3.0"), st)
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.json()["resolved_target"], "2.0.0", r)


class StartupConfig(ServiceTestCase):
    def run_direct(self, text):
        path = os.path.join(self.tmp, "bad.env")
        with open(path, "w") as f:
            f.write(text)
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
        p = subprocess.run([harness.BINARY, "-c", path], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def base(self):
        return ("STATE_DIR=%s\nLOG_DIR=%s\nPOLICY_URL=%s\nRUNTIME_MANIFEST_URL=%s\n"
                % (os.path.join(self.tmp, "s"), os.path.join(self.tmp, "l"), file_url(POLICY), file_url(MANIFEST)))

    def check(self, extra, key):
        text = self.base() + extra
        line = text.count("\n")  # the bad assignment is the last line
        rc, out = self.run_direct(text)
        self.assertNotEqual(rc, 0, out)
        self.assertIn(key, out)
        self.assertRegex(out, r"bad\.env:%d\b" % line)
        for pat in harness.SANITIZER_PATTERNS:
            self.assertNotIn(pat, out)

    def test_bad_port(self):
        self.check("UPDATER_PORT=70000\n", "UPDATER_PORT")

    def test_bad_timeout(self):
        self.check("FETCH_TIMEOUT_SECONDS=ten\n", "FETCH_TIMEOUT_SECONDS")

    def test_bad_connection_limit(self):
        self.check("HTTP_MAX_CONNECTIONS=0\n", "HTTP_MAX_CONNECTIONS")

    def test_missing_policy_url(self):
        path = os.path.join(self.tmp, "bad.env")
        with open(path, "w") as f:
            f.write("RUNTIME_MANIFEST_URL=%s\n" % file_url(MANIFEST))
        rc, out = self.run_direct("RUNTIME_MANIFEST_URL=%s\n" % file_url(MANIFEST))
        self.assertNotEqual(rc, 0, out)
        self.assertIn("POLICY_URL", out)

    def test_socket_activated_bad_config_exits(self):
        svc = self.make_service(self.default_config(UPDATER_PORT=70000), start=False)
        svc.start(wait_ready=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                harness.socket.create_connection(("127.0.0.1", svc.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        rc = svc.wait(10)
        self.assertNotEqual(rc, 0)
        self.assertIn("UPDATER_PORT", svc.stderr())
        self.assertFalse(any("READY=1" in lines(m) for _, m in svc.notify_lines()))


if __name__ == "__main__":
    harness.main()
