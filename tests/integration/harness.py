"""Shared harness for the payram-updater integration tests.

Starts the real binary under systemd-socket-activate on 127.0.0.1 with a
fresh STATE_DIR/LOG_DIR and an environment file, captures sd_notify
messages on a private datagram socket, and offers a raw-socket HTTP client
plus a configurable local policy/manifest HTTP server (127.0.0.1 only).

Environment:
  PAYRAM_UPDATER  path of the payram-updater binary (required)
  PAYRAM_DATA     tests/data/payram-scripts (defaults to the source tree)
  ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS  passed on to the service

Every service started through ServiceTestCase is killed in a cleanup
whatever happens, and a test fails when the service's stderr contains a
sanitizer report.
"""

import http.server
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("PAYRAM_UPDATER", "")
DATA = os.environ.get("PAYRAM_DATA") or os.path.join(HERE, "..", "data", "payram-scripts")
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"

POLICY = os.path.join(DATA, "upgrade-policy.json")
POLICY_BF2FCA9 = os.path.join(DATA, "upgrade-policy.breakpoint-2.0.0-bf2fca9.json")
POLICY_INITIAL = os.path.join(DATA, "upgrade-policy.initial-5aeff19.json")
MANIFEST = os.path.join(DATA, "runtime-manifest.json")
MANIFEST_INITIAL = os.path.join(DATA, "runtime-manifest.initial-5aeff19.json")

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                      "ERROR: UndefinedBehaviorSanitizer", "LeakSanitizer has encountered a fatal error")
STATUS_FIELDS = ["state", "mode", "requested_target", "resolved_target", "error_code", "error_message"]
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
LOCALHOST = "127.0.0.1"


def file_url(path):
    return "file://" + os.path.abspath(path)


def free_port():
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def raise_nofile(want):
    """Raises RLIMIT_NOFILE of this process (inherited by the service)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def proc_status(pid):
    """VmRSS and VmHWM of PID in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            for key in ("VmRSS", "VmHWM", "VmSize"):
                if line.startswith(key + ":"):
                    out[key] = int(line.split()[1])
    return out


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


# ---------------------------------------------------------------------------
# HTTP client over raw sockets


class Response:
    def __init__(self, status, reason, version, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers  # list of (name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:300])


class ConnectionClosed(Exception):
    pass


class HttpConn:
    """One TCP connection to the service; reads responses honoring
    Content-Length, keeping leftover bytes for the next response."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection((LOCALHOST, port), timeout=timeout)
        self.buf = b""
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out waiting for the answer")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionClosed("connection closed by the service")
        self.buf += chunk

    def read_response(self, timeout=None, head=False):
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        raw_head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw_head.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        resp = Response(int(status), reason, version, headers, b"", raw_head)
        if 100 <= resp.status < 200:
            return self.read_response(timeout, head)
        length = resp.header("Content-Length")
        if head:
            return resp
        if length is None:
            # Read to EOF.
            try:
                while True:
                    self._fill(deadline)
            except ConnectionClosed:
                pass
            resp.body, self.buf = self.buf, b""
            return resp
        n = int(length)
        while len(self.buf) < n:
            self._fill(deadline)
        resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    def request(self, method, path, body=None, headers=None, version="HTTP/1.1", timeout=None):
        self.send(build_request(method, path, body, headers, version))
        return self.read_response(timeout, head=(method == "HEAD"))

    def is_closed_by_peer(self, timeout=2.0):
        """True when the service closes the connection (EOF or reset) within timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
        except ConnectionClosed:
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def build_request(method, path, body=None, headers=None, version="HTTP/1.1"):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s %s" % (method, path, version), "Host: 127.0.0.1"]
    hdrs = dict(headers or {})
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
        hdrs.setdefault("Content-Length", str(len(body)))
    for k, v in hdrs.items():
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


# ---------------------------------------------------------------------------
# Local policy/manifest server (127.0.0.1 only)


class Route:
    """What the fake server does for one path.

    kind: "file" (file), "bytes" (data), "status" (code, data), "big" (size),
          "redirect" (data: the Location, code: 301/302/307...)
    delay: seconds to wait before answering (interruptible on shutdown)."""

    def __init__(self, kind, data=None, file=None, code=200, size=0, delay=0.0):
        self.kind, self.data, self.file, self.code, self.size, self.delay = kind, data, file, code, size, delay


class FakeServer:
    def __init__(self):
        self.routes = {}
        self.hits = []  # (path-with-query, headers dict)
        self.stopping = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.hits.append((self.path, dict(self.headers)))
                route = outer.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    return self._send(404, b'{"error":"not found"}')
                if route.delay and outer.stopping.wait(route.delay):
                    return
                if route.kind == "file":
                    with open(route.file, "rb") as f:
                        return self._send(200, f.read())
                if route.kind == "bytes":
                    return self._send(200, route.data)
                if route.kind == "redirect":
                    self.send_response(route.code)
                    self.send_header("Location", route.data)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.kind == "status":
                    return self._send(route.code, route.data or b"error")
                if route.kind == "big":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(route.size))
                    self.end_headers()
                    chunk = b" " * 65536
                    sent = 0
                    try:
                        while sent < route.size and not outer.stopping.is_set():
                            n = min(len(chunk), route.size - sent)
                            self.wfile.write(chunk[:n])
                            sent += n
                    except OSError:
                        pass
                    return
                self._send(500, b"bad route")

            def _send(self, code, body):
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server((LOCALHOST, 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (LOCALHOST, self.port, path)

    def route(self, path, **kw):
        self.routes[path] = Route(**kw)
        return self.url(path)

    def serve_file(self, path, file, delay=0.0):
        return self.route(path, kind="file", file=file, delay=delay)

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# The service


class Service:
    def __init__(self, workdir, config, state_dir=None, log_dir=None, port=None):
        self.workdir = workdir
        self.state_dir = state_dir or os.path.join(workdir, "state")
        self.log_dir = log_dir or os.path.join(workdir, "log")
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        self.config_path = os.path.join(workdir, "updater.env")
        self.port = port or free_port()
        self.proc = None
        self.stderr_path = None
        self.notify_path = None
        self.notify_sock = None
        self.notify_msgs = []  # list of (monotonic time, message string)
        self.notify_lock = threading.Lock()
        self.notify_thread = None
        self.generation = 0
        self.write_config(config)

    # -- configuration
    def write_config(self, config):
        """config: dict (KEY -> value) or raw text."""
        if isinstance(config, dict):
            cfg = {"STATE_DIR": self.state_dir, "LOG_DIR": self.log_dir}
            cfg.update(config)
            text = "".join("%s=%s\n" % (k, v) for k, v in cfg.items() if v is not None)
        else:
            text = config
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config_path)

    # -- sd_notify capture
    def _open_notify(self):
        self.notify_path = os.path.join(self.workdir, "notify-%d.sock" % self.generation)
        self.notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_sock.bind(self.notify_path)
        self.notify_sock.settimeout(0.2)
        sock = self.notify_sock

        def reader():
            while True:
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                with self.notify_lock:
                    self.notify_msgs.append((time.monotonic(), data.decode("utf-8", "replace")))

        self.notify_thread = threading.Thread(target=reader, daemon=True)
        self.notify_thread.start()

    def _close_notify(self):
        if self.notify_sock:
            self.notify_sock.close()
            self.notify_sock = None
        if self.notify_thread:
            self.notify_thread.join(2)
            self.notify_thread = None

    def notify_lines(self, since=0):
        with self.notify_lock:
            msgs = list(self.notify_msgs[since:])
        return msgs

    def wait_notify(self, predicate, since=0, timeout=10.0):
        """Waits for a datagram (from index since) for which predicate(msg) is
        true; returns its index or raises AssertionError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.notify_lock:
                for i in range(since, len(self.notify_msgs)):
                    if predicate(self.notify_msgs[i][1]):
                        return i
            time.sleep(0.02)
        raise AssertionError("no matching sd_notify message; got %r" % self.notify_lines())

    # -- life cycle
    def start(self, wait_ready=True, timeout=15.0):
        self.generation += 1
        with self.notify_lock:
            self.notify_msgs = []
        self._open_notify()
        self.stderr_path = os.path.join(self.workdir, "stderr-%d.txt" % self.generation)
        cmd = [SOCKET_ACTIVATE, "-l", "%s:%d" % (LOCALHOST, self.port),
               "-E", "NOTIFY_SOCKET=" + self.notify_path]
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if os.environ.get(var):
                cmd += ["-E", "%s=%s" % (var, os.environ[var])]
        cmd += [BINARY, "-c", self.config_path]
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._stderr_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_ready:
            return self
        # systemd-socket-activate runs the service on the first connection.
        deadline = time.monotonic() + timeout
        trigger = None
        while time.monotonic() < deadline and trigger is None:
            if self.proc.poll() is not None:
                raise AssertionError("service exited early (%s): %s" % (self.proc.returncode, self.stderr()))
            try:
                trigger = socket.create_connection((LOCALHOST, self.port), timeout=1)
            except OSError:
                time.sleep(0.02)
        if trigger is None:
            raise AssertionError("socket-activate never listened: " + self.stderr())
        try:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                self.wait_notify(lambda m: "READY=1" in m.split("\n"), timeout=remaining)
            except AssertionError:
                raise AssertionError("service not ready (rc=%s): %s" % (self.proc.poll(), self.stderr()))
        finally:
            trigger.close()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout=10.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("service did not exit within %.1f s" % timeout)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit code (kills on timeout)."""
        if self.proc is None:
            return None
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("service ignored SIGTERM for %.1f s" % timeout)
        self._finish()
        return rc

    def kill(self):
        if self.proc is None:
            return
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._finish()

    def _finish(self):
        self._close_notify()
        try:
            self._stderr_file.close()
        except Exception:
            pass

    def stderr(self):
        """The whole stderr of all generations of this service."""
        out = []
        for g in range(1, self.generation + 1):
            p = os.path.join(self.workdir, "stderr-%d.txt" % g)
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def sanitizer_reports(self):
        return [l for l in self.stderr().splitlines() if any(p in l for p in SANITIZER_PATTERNS)]

    def is_sanitized(self):
        try:
            with open("/proc/%d/maps" % self.pid) as f:
                return "asan" in f.read()
        except OSError:
            return bool(os.environ.get("ASAN_OPTIONS"))

    # -- HTTP
    def conn(self, timeout=10.0):
        return HttpConn(self.port, timeout)

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        with self.conn(timeout) as c:
            return c.request(method, path, body, headers, timeout=timeout)

    def get_json(self, path, timeout=10.0):
        r = self.request("GET", path, timeout=timeout)
        assert r.status == 200, r
        return r.json()

    def status(self):
        return self.get_json("/upgrade/status")

    def logs(self):
        return self.get_json("/upgrade/logs")["logs"]

    def upgrade(self, mode="DASHBOARD", target="latest", current=None, headers=None, timeout=30.0, **extra):
        body = {"mode": mode, "requested_target": target}
        if current is not None:
            body["current_version"] = current
        body.update(extra)
        return self.request("POST", "/upgrade", body, headers, timeout=timeout)

    def wait_state(self, states, timeout=15.0):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            st = self.status()
            if st["state"] in states:
                return st
            time.sleep(0.05)
        raise AssertionError("state never reached %r; last %r" % (states, st))


class ServiceTestCase(unittest.TestCase):
    """Gives each test a temp dir, a fake server and a service factory;
    everything is torn down whatever happens, and sanitizer reports in the
    service's stderr fail the test."""

    def setUp(self):
        if not BINARY or not os.access(BINARY, os.X_OK):
            self.fail("PAYRAM_UPDATER must name the payram-updater binary (got %r)" % BINARY)
        self.tmp = tempfile.mkdtemp(prefix="payram-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.fake = FakeServer()
        self.addCleanup(self.fake.stop)
        self.services = []
        self.addCleanup(self._check_services)

    def _check_services(self):
        # A graceful stop first, so that LeakSanitizer runs at exit in
        # sanitized builds; then make sure nothing is left.
        for s in self.services:
            if s.alive():
                try:
                    s.stop(timeout=10)
                except AssertionError:
                    pass
            s.kill()
        reports = []
        for s in self.services:
            reports += s.sanitizer_reports()
        if reports:
            full = "\n".join(s.stderr() for s in self.services)
            self.fail("sanitizer report in the service's stderr:\n%s\n--- full stderr ---\n%s"
                      % ("\n".join(reports), full[-20000:]))

    def default_config(self, **overrides):
        cfg = {"POLICY_URL": file_url(POLICY), "RUNTIME_MANIFEST_URL": file_url(MANIFEST)}
        cfg.update(overrides)
        return cfg

    def make_service(self, config=None, workdir=None, start=True, **kw):
        workdir = workdir or tempfile.mkdtemp(prefix="svc-", dir=self.tmp)
        svc = Service(workdir, config if config is not None else self.default_config(), **kw)
        self.services.append(svc)
        if start:
            svc.start()
        return svc

    def assertLogsWellFormed(self, logs):
        self.assertIsInstance(logs, list)
        for e in logs:
            self.assertEqual(set(e.keys()) >= {"time", "level", "message"}, True, e)
            self.assertRegex(e["time"], RFC3339_UTC)
            self.assertIn(e["level"], ("info", "warning", "error"))
        times = [e["time"] for e in logs]
        self.assertEqual(times, sorted(times), "log entries not oldest first")


def main():
    unittest.main(verbosity=2)
