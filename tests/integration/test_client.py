#!/usr/bin/env python3
"""The command-line client (`payram-updater status|logs|upgrade|health`)
against the real service: where it finds the service, what it prints and
its exit codes."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BINARY, ServiceTestCase  # noqa: E402


class Client(ServiceTestCase):
    def setUp(self):
        super().setUp()
        self.svc = self.make_service()
        self.url = "http://127.0.0.1:%d" % self.svc.port

    def run_client(self, *args, env=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        e.update(env or {})
        return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60, env=e)

    def test_url_before_or_after_the_command(self):
        for args in (["--url", self.url, "health"], ["health", "--url", self.url],
                     ["--url=" + self.url, "health"], ["health", "--url", self.url + "/"]):
            p = self.run_client(*args)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
            self.assertEqual(json.loads(p.stdout), {"status": "healthy"})

    def test_url_from_the_environment(self):
        p = self.run_client("status", env={"PAYRAM_UPDATER_URL": self.url})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["state"], "IDLE")

    def test_upgrade_exit_codes_and_logs(self):
        p = self.run_client("upgrade", "--url", self.url, "--mode", "DASHBOARD", "--target", "latest",
                            "--current-version", "2.0.5")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["resolved_target"], "3.3.0")

        p = self.run_client("upgrade", "--url", self.url, "--mode", "DASHBOARD", "--current-version", "1.9.1")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(json.loads(p.stdout)["error_code"], "MANUAL_UPGRADE_REQUIRED")

        p = self.run_client("logs", "--url", self.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertTrue(any("Upgrade job started" in line for line in lines), p.stdout)
        self.assertTrue(any(" error " in line and "MANUAL_UPGRADE_REQUIRED" in line for line in lines),
                        p.stdout)

        p = self.run_client("logs", "--json", "--url", self.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreater(len(json.loads(p.stdout)["logs"]), 2)

    def test_async_upgrade_returns_at_once(self):
        p = self.run_client("upgrade", "--url", self.url, "--target", "3.2.0", "--async")
        self.assertEqual(p.returncode, 0, p.stderr)
        body = json.loads(p.stdout)
        self.assertTrue(body["message"].startswith("Upgrade job accepted"), body)

    def test_usage_errors(self):
        for args in (["status", "--json"], ["health", "--target", "1.0.0"], ["logs", "extra"],
                     ["upgrade", "-c", "/etc/payram/updater.env"]):
            p = self.run_client("--url", self.url, *args)
            self.assertEqual(p.returncode, 2, (args, p.stdout, p.stderr))
            self.assertTrue(p.stderr.strip(), args)

        p = self.run_client("bogus")
        self.assertEqual(p.returncode, 2)
        self.assertIn("Unknown command 'bogus'", p.stderr)

    def test_usage_messages_name_the_problem(self):
        p = self.run_client("health", "--mode", "DASHBOARD")
        self.assertEqual(p.returncode, 2)
        self.assertIn("Option --mode does not apply to 'health'", p.stderr)
        p = self.run_client("upgrade", "--url", self.url, "--mode", "dashboard")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--mode must be MANUAL or DASHBOARD", p.stderr)
        for bad in ("ftp://127.0.0.1:1", "http://127.0.0.1:99999", self.url + "/upgrade"):
            p = self.run_client("health", "--url", bad)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("is not a service address", p.stderr)
        p = self.run_client("-c", "/etc/payram/updater.env", "status")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--config belongs to the service", p.stderr)

    def test_secrets_in_the_service_url_are_not_printed(self):
        p = self.run_client("status", "--url", "http://admin:s3cretPW@127.0.0.1:1/")
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("s3cretPW", p.stderr + p.stdout)
        self.assertIn("http://***@127.0.0.1:1", p.stderr)
        p = self.run_client("health", env={"PAYRAM_UPDATER_URL": "http://127.0.0.1:1/?token=SECRETTOK"})
        self.assertEqual(p.returncode, 2)
        self.assertNotIn("SECRETTOK", p.stderr + p.stdout)

    def test_service_not_running(self):
        p = self.run_client("status", "--url", "http://127.0.0.1:1")
        self.assertEqual(p.returncode, 2)
        self.assertIn("Cannot reach payram-updater", p.stderr)
        self.assertIn("systemctl status payram-updater.socket", p.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
