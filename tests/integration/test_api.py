#!/usr/bin/env python3
"""HTTP API of the real service: the SPEC examples on the published policy
and manifest files, the error answers, HTTP/1.1 connection handling and
secret redaction."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (MANIFEST, POLICY, POLICY_BF2FCA9, STATUS_FIELDS, ServiceTestCase,  # noqa: E402
                     build_request, file_url)

BREAKPOINT_REASON = "Breaking change: manual upgrade required before proceeding to 2.0.0."


class SpecExamples(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.svc = self.make_service()

    def test_idle_status_before_any_job(self):
        r = self.svc.request("GET", "/upgrade/status")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r.headers)
        st = r.json()
        self.assertEqual(list(st.keys())[:6], STATUS_FIELDS)
        self.assertEqual(st["state"], "IDLE")
        for k in STATUS_FIELDS[1:]:
            self.assertEqual(st[k], "", k)

    def test_logs_empty_before_any_job(self):
        r = self.svc.request("GET", "/upgrade/logs")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"logs": []})

    def test_health(self):
        r = self.svc.request("GET", "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "healthy"})

    def test_dashboard_latest_from_205_ready(self):
        r = self.svc.upgrade("DASHBOARD", "latest", current="2.0.5")
        self.assertEqual(r.status, 201, r)
        body = r.json()
        self.assertEqual(body["message"], "Upgrade job created successfully. State: READY")
        self.assertEqual(body["state"], "READY")
        self.assertEqual(body["mode"], "DASHBOARD")
        self.assertEqual(body["requested_target"], "latest")
        self.assertEqual(body["resolved_target"], "3.3.0")
        self.assertEqual(body["error_code"], "")
        self.assertEqual(body["error_message"], "")
        self.assertTrue(body["job_id"])
        st = self.svc.status()
        self.assertEqual(list(st.keys())[:6], STATUS_FIELDS)
        self.assertEqual(st["state"], "READY")
        self.assertEqual(st["job_id"], body["job_id"])
        self.assertEqual(st["resolved_target"], "3.3.0")
        logs = self.svc.logs()
        self.assertGreater(len(logs), 1)
        self.assertLogsWellFormed(logs)
        self.assertTrue(any("3.3.0" in e["message"] for e in logs), logs)
        # The job log file exists in LOG_DIR.
        self.assertTrue(any(body["job_id"] in n for n in os.listdir(self.svc.log_dir)),
                        os.listdir(self.svc.log_dir))

    def test_dashboard_latest_from_191_manual_upgrade_required(self):
        r = self.svc.upgrade("DASHBOARD", "latest", current="1.9.1")
        self.assertEqual(r.status, 422, r)
        body = r.json()
        self.assertEqual(list(body.keys())[:6], STATUS_FIELDS)
        self.assertEqual(body["state"], "FAILED")
        self.assertEqual(body["error_code"], "MANUAL_UPGRADE_REQUIRED")
        self.assertIn("2.0.0", body["error_message"])
        self.assertIn(BREAKPOINT_REASON, body["error_message"])
        st = self.svc.status()
        self.assertEqual(st["state"], "FAILED")
        self.assertEqual(st["error_code"], "MANUAL_UPGRADE_REQUIRED")
        logs = self.svc.logs()
        self.assertLogsWellFormed(logs)
        self.assertEqual(logs[-1]["level"], "error")

    def test_manual_latest_from_191_ready(self):
        r = self.svc.upgrade("MANUAL", "latest", current="1.9.1")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["state"], "READY")
        self.assertEqual(r.json()["resolved_target"], "3.3.0")

    def test_dashboard_exact_breakpoint_refused(self):
        r = self.svc.upgrade("DASHBOARD", "2.0.0")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "MANUAL_UPGRADE_REQUIRED")
        self.assertIn("2.0.0", r.json()["error_message"])

    def test_dashboard_exact_breakpoint_with_v_prefix_refused(self):
        r = self.svc.upgrade("DASHBOARD", "v2.0.0", current="1.9.7")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "MANUAL_UPGRADE_REQUIRED")

    def test_dashboard_fails_closed_on_incomparable_versions(self):
        for target, current in (("latest", "nightly"), ("edge", None), ("edge", "3.0.0"), ("3.3.0", "nightly")):
            with self.subTest(target=target, current=current):
                r = self.svc.upgrade("DASHBOARD", target, current=current)
                self.assertEqual(r.status, 422, r)
                self.assertEqual(r.json()["state"], "FAILED")
                self.assertTrue(r.json()["error_code"])

    def test_dashboard_crossing_breakpoint_with_explicit_target(self):
        r = self.svc.upgrade("DASHBOARD", "3.0.0", current="1.9.9")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "MANUAL_UPGRADE_REQUIRED")
        r = self.svc.upgrade("DASHBOARD", "v3.3.0", current="v2.0.0")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["state"], "READY")

    def test_new_job_after_terminal_job(self):
        r1 = self.svc.upgrade("DASHBOARD", "latest", current="1.9.1")
        self.assertEqual(r1.status, 422)
        r2 = self.svc.upgrade("MANUAL", "3.2.0")
        self.assertEqual(r2.status, 201, r2)
        self.assertNotEqual(r1.json()["job_id"], r2.json()["job_id"])
        self.assertEqual(self.svc.status()["job_id"], r2.json()["job_id"])


class PolicyVariants(ServiceTestCase):
    def test_bf2fca9_latest_is_breakpoint_refused_without_current(self):
        svc = self.make_service(self.default_config(POLICY_URL=file_url(POLICY_BF2FCA9)))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        body = r.json()
        self.assertEqual(body["error_code"], "MANUAL_UPGRADE_REQUIRED")
        self.assertEqual(body["resolved_target"], "2.0.0")
        self.assertIn("2.0.0", body["error_message"])

    def test_initial_policy_and_manifest(self):
        with open(harness.POLICY_INITIAL) as f:
            latest = harness.json.load(f)["latest"]
        svc = self.make_service(self.default_config(POLICY_URL=file_url(harness.POLICY_INITIAL),
                                                    RUNTIME_MANIFEST_URL=file_url(harness.MANIFEST_INITIAL)))
        r = svc.upgrade("MANUAL", "latest")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["resolved_target"], latest)

    def test_manual_explicit_version_policy_unreachable_ready_with_warning(self):
        dead = "http://127.0.0.1:%d/policy.json" % harness.free_port()
        svc = self.make_service(self.default_config(POLICY_URL=dead, FETCH_TIMEOUT_SECONDS=3))
        r = svc.upgrade("MANUAL", "3.1.0")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["state"], "READY")
        self.assertEqual(r.json()["resolved_target"], "3.1.0")
        logs = svc.logs()
        self.assertLogsWellFormed(logs)
        self.assertTrue(any(e["level"] == "warning" for e in logs), logs)

    def test_manual_latest_policy_unreachable_fails(self):
        # "latest still needs a policy" in MANUAL mode.
        dead = "http://127.0.0.1:%d/policy.json" % harness.free_port()
        svc = self.make_service(self.default_config(POLICY_URL=dead, FETCH_TIMEOUT_SECONDS=3))
        r = svc.upgrade("MANUAL", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["state"], "FAILED")

    def test_dashboard_policy_unreachable(self):
        dead = "http://127.0.0.1:%d/policy.json" % harness.free_port()
        svc = self.make_service(self.default_config(POLICY_URL=dead, FETCH_TIMEOUT_SECONDS=3))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_FETCH_FAILED")

    def test_dashboard_policy_500(self):
        url = self.fake.route("/p.json", kind="status", code=500)
        svc = self.make_service(self.default_config(POLICY_URL=url))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_FETCH_FAILED")
        self.assertTrue(self.fake.hits)

    def test_dashboard_policy_invalid_releases(self):
        url = self.fake.route("/p.json", kind="bytes",
                              data=b'{"latest":"3.3.0","releases":[1,2,3],"breakpoints":[]}')
        svc = self.make_service(self.default_config(POLICY_URL=url))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_INVALID")

    def test_dashboard_policy_garbage(self):
        url = self.fake.route("/p.json", kind="bytes", data=b"\x00\xffnot json at all{{{")
        svc = self.make_service(self.default_config(POLICY_URL=url))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_INVALID")

    def test_dashboard_policy_too_large(self):
        url = self.fake.route("/p.json", kind="big", size=(1 << 20) + 4096)
        svc = self.make_service(self.default_config(POLICY_URL=url))
        r = svc.upgrade("DASHBOARD", "latest")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_FETCH_FAILED")

    def test_manifest_404(self):
        url = self.fake.route("/m.json", kind="status", code=404)
        svc = self.make_service(self.default_config(RUNTIME_MANIFEST_URL=url))
        for mode in ("DASHBOARD", "MANUAL"):
            r = svc.upgrade(mode, "3.3.0", current="3.2.0")
            self.assertEqual(r.status, 422, r)
            self.assertEqual(r.json()["error_code"], "MANIFEST_FETCH_FAILED")

    def test_manifest_invalid(self):
        url = self.fake.route("/m.json", kind="bytes", data=b'{"image":{"repo":42}}')
        svc = self.make_service(self.default_config(RUNTIME_MANIFEST_URL=url))
        for mode in ("DASHBOARD", "MANUAL"):
            r = svc.upgrade(mode, "3.3.0", current="3.2.0")
            self.assertEqual(r.status, 422, r)
            self.assertEqual(r.json()["error_code"], "MANIFEST_INVALID")

    def test_policy_and_manifest_over_http(self):
        p = self.fake.serve_file("/p.json", POLICY)
        m = self.fake.serve_file("/m.json", MANIFEST)
        svc = self.make_service(self.default_config(POLICY_URL=p, RUNTIME_MANIFEST_URL=m))
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertEqual(r.status, 201, r)
        paths = [h[0] for h in self.fake.hits]
        self.assertIn("/p.json", paths)
        self.assertIn("/m.json", paths)


class Concurrency(ServiceTestCase):
    def test_409_while_job_runs_and_async_202(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=2.0)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        t0 = time.monotonic()
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0", headers={"Prefer": "respond-async"})
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(r.status, 202, r)
        job_id = r.json()["job_id"]
        self.assertIn(r.json()["state"], ("POLICY_FETCHING", "MANIFEST_FETCHING"))
        r2 = svc.upgrade("MANUAL", "3.1.0")
        self.assertEqual(r2.status, 409, r2)
        self.assertEqual(r2.json(), {"error": "An upgrade job is already in progress"})
        st = svc.wait_state(("READY", "FAILED"), timeout=15)
        self.assertEqual(st["state"], "READY", st)
        self.assertEqual(st["job_id"], job_id)
        self.assertEqual(st["resolved_target"], "3.3.0")

    def test_synchronous_post_waits_for_the_end(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=1.0)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        t0 = time.monotonic()
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["state"], "READY")


class BadRequests(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.svc = self.make_service()

    def post_raw(self, body, headers=None):
        return self.svc.request("POST", "/upgrade", body, headers)

    def assert400(self, r):
        self.assertEqual(r.status, 400, r)
        self.assertIsInstance(r.json().get("error"), str)
        self.assertTrue(r.json()["error"])

    def test_not_json(self):
        self.assert400(self.post_raw("this is not json"))

    def test_json_array(self):
        self.assert400(self.post_raw('[{"mode":"MANUAL","requested_target":"3.3.0"}]'))

    def test_empty_body(self):
        self.assert400(self.post_raw(b""))

    def test_unknown_mode(self):
        self.assert400(self.post_raw({"mode": "ROOT", "requested_target": "latest"}))

    def test_missing_target(self):
        self.assert400(self.post_raw({"mode": "MANUAL"}))

    def test_400_nul_or_invalid_utf8_in_strings(self):
        # "\u0000" would cut the string short after validation; bytes that
        # are not UTF-8 would end up in answers and logs.
        self.assert400(self.post_raw('{"mode":"MANUAL","requested_target":"3.3.0\\u0000evil"}'))
        self.assert400(self.post_raw('{"mode":"MANUAL","requested_target":"3.3.0",'
                                     '"current_version":"1.0.0\\u0000x"}'))
        self.assert400(self.post_raw(b'{"mode":"MANUAL","requested_target":"3.3.0","x":"\xff\xfe"}'))

    def test_malformed_targets(self):
        for target in ("../etc", "a b", "x" * 129, "", "-1.0", 3):
            with self.subTest(target=target):
                self.assert400(self.post_raw({"mode": "MANUAL", "requested_target": target}))

    def test_128_char_target_accepted_syntax(self):
        # 128 characters is the longest valid tag: not a 400.
        r = self.post_raw({"mode": "MANUAL", "requested_target": "a" * 128})
        self.assertNotEqual(r.status, 400, r)

    def test_current_version_not_string(self):
        for cv in (123, ["2.0.5"], {"v": 1}, True):
            with self.subTest(cv=cv):
                self.assert400(self.post_raw({"mode": "DASHBOARD", "requested_target": "latest",
                                              "current_version": cv}))

    def test_no_job_started_by_bad_requests(self):
        self.post_raw("nope")
        self.post_raw({"mode": "X", "requested_target": "latest"})
        self.assertEqual(self.svc.status()["state"], "IDLE")
        self.assertEqual(self.svc.logs(), [])

    def test_404(self):
        for path in ("/", "/nope", "/upgrade/", "/health/x", "/upgrade/status/../logs"):
            with self.subTest(path=path):
                r = self.svc.request("GET", path)
                self.assertEqual(r.status, 404, r)
                self.assertIn("error", r.json())

    def test_405_get_upgrade(self):
        r = self.svc.request("GET", "/upgrade")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.header("Allow"), "POST")

    def test_405_post_health(self):
        r = self.svc.request("POST", "/health", {"x": 1})
        self.assertEqual(r.status, 405, r)
        allow = [m.strip() for m in r.header("Allow", "").split(",")]
        self.assertIn("GET", allow)
        self.assertIn("HEAD", allow)

    def test_head_health(self):
        with self.svc.conn() as c:
            c.send(build_request("HEAD", "/health"))
            r = c.read_response(head=True)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Content-Length"), str(len(b'{"status":"healthy"}')))
            # No body follows: the next answer on the connection starts right away.
            r2 = c.request("GET", "/health")
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.json(), {"status": "healthy"})
            self.assertEqual(c.buf, b"")

    def test_head_status(self):
        with self.svc.conn() as c:
            c.send(build_request("HEAD", "/upgrade/status"))
            r = c.read_response(head=True)
            self.assertEqual(r.status, 200)
            self.assertGreater(int(r.header("Content-Length")), 0)
            c.sock.settimeout(0.3)
            try:
                extra = c.sock.recv(100)
            except socket.timeout:
                extra = b""
            self.assertEqual(extra, b"", "HEAD answer carried a body")


class Connections(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.svc = self.make_service()

    def test_keep_alive_two_requests(self):
        with self.svc.conn() as c:
            r1 = c.request("GET", "/health")
            self.assertEqual(r1.status, 200)
            self.assertNotEqual(r1.header("Connection", "").lower(), "close")
            r2 = c.request("GET", "/upgrade/status")
            self.assertEqual(r2.status, 200)
            self.assertEqual(r2.json()["state"], "IDLE")

    def test_pipelined_in_order(self):
        with self.svc.conn() as c:
            c.send(build_request("GET", "/health") + build_request("GET", "/nope") +
                   build_request("GET", "/upgrade/logs") + build_request("POST", "/health", b"{}") +
                   build_request("GET", "/upgrade/status"))
            statuses = [c.read_response().status for _ in range(5)]
            self.assertEqual(statuses, [200, 404, 200, 405, 200])

    def test_pipelined_post_then_get(self):
        with self.svc.conn() as c:
            c.send(build_request("POST", "/upgrade", {"mode": "MANUAL", "requested_target": "3.2.0"}) +
                   build_request("GET", "/upgrade/status"))
            r1 = c.read_response()
            r2 = c.read_response()
            self.assertEqual(r1.status, 201, r1)
            self.assertEqual(r2.json()["job_id"], r1.json()["job_id"])
            self.assertEqual(r2.json()["state"], "READY")

    def test_pipelined_posts_run_one_after_the_other(self):
        # The second POST is read while the first job runs; it is handled
        # only once the first answer is out, so it starts the next job
        # instead of getting 409, and the answers come back in order.
        slow = self.fake.serve_file("/slow.json", POLICY, delay=0.5)
        svc = self.make_service(self.default_config(POLICY_URL=slow))
        with svc.conn(timeout=15) as c:
            c.send(build_request("POST", "/upgrade", {"mode": "MANUAL", "requested_target": "3.2.0"}) +
                   build_request("POST", "/upgrade", {"mode": "MANUAL", "requested_target": "3.3.0"}) +
                   build_request("GET", "/upgrade/status"))
            r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
        self.assertEqual((r1.status, r2.status, r3.status), (201, 201, 200), (r1, r2, r3))
        self.assertEqual(r1.json()["resolved_target"], "3.2.0")
        self.assertEqual(r2.json()["resolved_target"], "3.3.0")
        self.assertNotEqual(r1.json()["job_id"], r2.json()["job_id"])
        self.assertEqual(r3.json()["job_id"], r2.json()["job_id"])

    def test_http10_closes(self):
        with self.svc.conn() as c:
            r = c.request("GET", "/health", version="HTTP/1.0")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json(), {"status": "healthy"})
            self.assertTrue(c.is_closed_by_peer(3.0), "HTTP/1.0 connection left open")

    def test_connection_close_header_closes(self):
        with self.svc.conn() as c:
            r = c.request("GET", "/health", headers={"Connection": "close"})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Connection", "").lower(), "close")
            self.assertTrue(c.is_closed_by_peer(3.0))

    def test_malformed_request_line_400(self):
        with self.svc.conn() as c:
            c.send(b"THIS IS NOT HTTP\r\n\r\n")
            r = c.read_response()
            self.assertEqual(r.status, 400, r)


class Secrets(ServiceTestCase):
    def test_url_secrets_never_shown(self):
        self.fake.serve_file("/p.json", POLICY)
        self.fake.serve_file("/m.json", MANIFEST)
        policy = "http://user:s3cret@127.0.0.1:%d/p.json?token=abc" % self.fake.port
        manifest = "http://admin:hunter2pw@127.0.0.1:%d/m.json?key=xyzzy42" % self.fake.port
        svc = self.make_service(self.default_config(POLICY_URL=policy, RUNTIME_MANIFEST_URL=manifest))
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertEqual(r.status, 201, r)
        # The secret URL really was used.
        self.assertTrue(any(h[0] == "/p.json?token=abc" for h in self.fake.hits), self.fake.hits)
        # A failing fetch too (the error path formats URLs as well).
        self.fake.route("/p.json", kind="status", code=500)
        r2 = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertEqual(r2.status, 422, r2)
        dead = self.fake.url("/nothing")  # noqa: F841
        texts = {
            "POST answers": r.body.decode() + r2.body.decode(),
            "status": svc.request("GET", "/upgrade/status").body.decode(),
            "logs": svc.request("GET", "/upgrade/logs").body.decode(),
        }
        for name in os.listdir(svc.log_dir):
            with open(os.path.join(svc.log_dir, name), "rb") as f:
                texts["log file " + name] = f.read().decode("utf-8", "replace")
        svc.stop()
        # stderr minus the socket-activate line that echoes our own command line.
        texts["stderr"] = "\n".join(l for l in svc.stderr().splitlines() if not l.startswith("Execing "))
        self.assertTrue(any(n.startswith("log file") for n in texts))
        for name, text in texts.items():
            for secret in ("s3cret", "token=abc", "hunter2pw", "xyzzy42"):
                self.assertNotIn(secret, text, "%s shows %s" % (name, secret))
            with self.subTest(name=name):
                self.assertNotRegex(text, r"[?&]token=abc\b")
        # And the policy host still appears, redacted, so the log stays useful.
        self.assertIn("127.0.0.1", texts["logs"])

    def test_redirect_target_secrets_never_shown(self):
        # The policy redirects to a URL with credentials and a token that
        # then fails: neither the failure message nor the logs may show them.
        self.fake.route("/gone.json", kind="status", code=404)
        target = "http://bob:pa55word@127.0.0.1:%d/gone.json?sig=qq77zz" % self.fake.port
        url = self.fake.route("/p.json", kind="redirect", code=302, data=target)
        svc = self.make_service(self.default_config(POLICY_URL=url))
        r = svc.upgrade("DASHBOARD", "latest", current="3.0.0")
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json()["error_code"], "POLICY_FETCH_FAILED")
        self.assertTrue(any(h[0].startswith("/gone.json") for h in self.fake.hits), self.fake.hits)
        texts = [r.body.decode(), svc.request("GET", "/upgrade/logs").body.decode()]
        for name in os.listdir(svc.log_dir):
            with open(os.path.join(svc.log_dir, name), "rb") as f:
                texts.append(f.read().decode("utf-8", "replace"))
        svc.stop()
        texts.append(svc.stderr())
        for text in texts:
            for secret in ("pa55word", "qq77zz"):
                self.assertNotIn(secret, text)


if __name__ == "__main__":
    harness.main()
