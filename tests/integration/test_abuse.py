#!/usr/bin/env python3
"""Limits under abuse: many idle and slow connections, a pipelining client
that never reads, oversized bodies and headers, incomplete requests, idle
keep-alive connections, and the connection cap.

Memory bounds.  The service's resident set is measured after start-up
(baseline) and again under load.  Every connection costs the service a
HttpConnection, an HttpParser with a header buffer (HTTP_MAX_HEADER_BYTES,
8 KiB), a URI buffer (2 x 8 KiB) and a header table, and two sd-event
sources: at most about 30 KiB each when every page is touched, so 1000
connections may add up to ~30 MiB in the worst case and in practice far
less since idle connections touch almost nothing.  We allow baseline +
40 MiB (and an absolute 64 MiB without sanitizers).  The pipelining client
is bounded by HTTP_MAX_PENDING_OUTPUT (256 KiB of queued answers) plus
what the kernel buffers, so its growth must stay under 16 MiB.  Under
AddressSanitizer (quarantine, redzones, shadow memory) the growth bounds
are multiplied by 4 and the absolute bound is dropped.
"""

import os
import select
import signal  # noqa: F401
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import POLICY, ServiceTestCase, build_request, proc_status  # noqa: E402

MiB = 1024

N_IDLE = 1000
N_SLOW = 20


def connect_many(port, n, timeout=20.0):
    socks = []
    deadline = time.monotonic() + timeout
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


class Abuse(ServiceTestCase):
    def setUp(self):
        super().setUp()
        harness.raise_nofile(8192)

    def factor(self, svc):
        return 4 if svc.is_sanitized() else 1

    def timed_health(self, svc, limit=1.0):
        t = time.monotonic()
        r = svc.request("GET", "/health", timeout=limit + 2)
        dt = time.monotonic() - t
        self.assertEqual(r.status, 200, r)
        self.assertLess(dt, limit, "/health took %.3f s" % dt)
        return dt

    def test_many_idle_and_slow_connections(self):
        svc = self.make_service(self.default_config(HTTP_MAX_CONNECTIONS=4000, HTTP_REQUEST_TIMEOUT_SECONDS=30,
                                                    HTTP_IDLE_TIMEOUT_SECONDS=60))
        f = self.factor(svc)
        base = proc_status(svc.pid)["VmRSS"]
        idle = connect_many(svc.port, N_IDLE)
        self.addCleanup(close_all, idle)
        self.assertEqual(len(idle), N_IDLE)
        slow = connect_many(svc.port, N_SLOW)
        self.addCleanup(close_all, slow)

        request = build_request("GET", "/health")
        stop = threading.Event()
        sent = [0]

        def loris():
            # One byte per second on every slow connection, bounded in time.
            for i in range(len(request) - 2):
                if stop.wait(1.0):
                    return
                for s in slow:
                    try:
                        s.send(request[i:i + 1])
                    except OSError:
                        pass
                sent[0] = i + 1

        th = threading.Thread(target=loris, daemon=True)
        th.start()
        self.addCleanup(stop.set)

        # Let the service accept everything.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and harness.open_fds(svc.pid) < N_IDLE + N_SLOW:
            time.sleep(0.1)
        self.assertGreaterEqual(harness.open_fds(svc.pid), N_IDLE + N_SLOW, "connections not accepted")

        worst = 0.0
        for _ in range(8):
            worst = max(worst, self.timed_health(svc, 1.0))
            time.sleep(0.4)
        self.assertGreaterEqual(sent[0], 2, "slow clients did not get to send")
        rss = proc_status(svc.pid)["VmRSS"]
        growth = rss - base
        sys.stderr.write("\n  [1000 idle + %d slow] baseline %d KiB, now %d KiB (+%d KiB), worst /health %.3f s\n"
                         % (N_SLOW, base, rss, growth, worst))
        self.assertLess(growth, 40 * MiB * f, "RSS grew by %d KiB" % growth)
        if f == 1:
            self.assertLess(rss, 64 * MiB, "VmRSS %d KiB" % rss)

        # The idle connections are still open (not silently dropped) and usable.
        for s in idle[:5]:
            s.sendall(build_request("GET", "/health"))
            s.settimeout(5)
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200"))
        stop.set()
        th.join(5)

    def test_connection_cap_evicts_idle(self):
        cap = 50
        svc = self.make_service(self.default_config(HTTP_MAX_CONNECTIONS=cap))
        idle = connect_many(svc.port, 300)
        self.addCleanup(close_all, idle)
        time.sleep(0.5)
        for _ in range(5):
            self.timed_health(svc, 1.0)
        fds = harness.open_fds(svc.pid)
        # cap connections + listener + a few internal descriptors.
        self.assertLess(fds, cap + 30, "service holds %d fds with a cap of %d" % (fds, cap))
        # The oldest idle connections were the ones closed.
        oldest = idle[0]
        oldest.settimeout(3)
        try:
            data = oldest.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b"timeout"
        self.assertEqual(data, b"", "the oldest idle connection was not evicted")

    def test_503_when_every_connection_is_busy(self):
        slow = self.fake.serve_file("/slow.json", POLICY, delay=3.0)
        svc = self.make_service(self.default_config(POLICY_URL=slow, HTTP_MAX_CONNECTIONS=1))
        with svc.conn(timeout=15) as busy:
            busy.send(build_request("POST", "/upgrade", {"mode": "MANUAL", "requested_target": "3.2.0"}))
            deadline = time.monotonic() + 5
            while not self.fake.hits and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(self.fake.hits)
            t = time.monotonic()
            with svc.conn(timeout=5) as c:
                c.send(build_request("GET", "/health"))
                r = c.read_response(timeout=5)
            self.assertLess(time.monotonic() - t, 1.0)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json(), {"error": "too many open connections"})
            self.assertTrue(r.header("Retry-After"))
            # The busy connection still gets its answer.
            r = busy.read_response(timeout=15)
            self.assertEqual(r.status, 201, r)
        # Once the job is done, a new connection is served again (the busy
        # one is idle now, or closed, and gives way).
        self.timed_health(svc, 1.0)

    def test_pipelining_client_that_never_reads(self):
        svc = self.make_service()
        f = self.factor(svc)
        base = proc_status(svc.pid)["VmRSS"]
        one = build_request("GET", "/health")
        payload = one * 20000
        s = socket.create_connection(("127.0.0.1", svc.port))
        self.addCleanup(s.close)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        off = 0
        deadline = time.monotonic() + 8
        while off < len(payload) and time.monotonic() < deadline:
            _, w, _ = select.select([], [s], [], 0.2)
            if w:
                try:
                    off += s.send(payload[off:off + 65536])
                except BlockingIOError:
                    pass
        sys.stderr.write("\n  [pipelining] sent %d of %d bytes (%d requests)\n" % (off, len(payload), off // len(one)))
        # Other clients are served meanwhile.
        for _ in range(5):
            self.timed_health(svc, 1.0)
        hwm = proc_status(svc.pid)
        growth = hwm["VmRSS"] - base
        sys.stderr.write("  [pipelining] baseline %d KiB, now %d KiB (+%d), HWM %d KiB\n"
                         % (base, hwm["VmRSS"], growth, hwm["VmHWM"]))
        self.assertLess(growth, 16 * MiB * f)
        self.assertLess(hwm["VmHWM"] - base, 16 * MiB * f)
        # The greedy client is either back-pressured or cut off, never served
        # into unbounded memory; after it goes, everything is normal.
        s.close()
        self.timed_health(svc, 1.0)

    def test_paused_pipeline_resumes_when_client_reads(self):
        """A client that sends many pipelined requests, reads nothing for a
        while (so the service pauses it at its output limit with requests
        already received), then reads: every request gets its answer, in
        order, and the connection stays usable."""
        svc = self.make_service()
        n = 40000
        one = build_request("GET", "/health")
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        # A small receive window makes the service's own output queue fill.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", svc.port))
        s.setblocking(False)
        payload, off, got = one * n, 0, b""
        answers = 0
        deadline = time.monotonic() + 30
        paused_until = time.monotonic() + 1.0
        while answers < n and time.monotonic() < deadline:
            want_write = off < len(payload)
            reading = time.monotonic() >= paused_until
            r, w, _ = select.select([s] if reading else [], [s] if want_write else [], [], 0.1)
            if w:
                try:
                    off += s.send(payload[off:off + 65536])
                except BlockingIOError:
                    pass
            if r:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
                answers = got.count(b"HTTP/1.1 200 OK\r\n")
        self.assertEqual(off, len(payload))
        self.assertEqual(answers, n)
        self.assertEqual(got.count(b"HTTP/1.1 "), n)
        s.setblocking(True)
        s.sendall(build_request("GET", "/upgrade/status"))
        s.settimeout(5)
        tail = s.recv(65536)
        self.assertIn(b"HTTP/1.1 200 OK", tail)

    def test_413_without_sending_the_body(self):
        svc = self.make_service()
        with svc.conn(timeout=5) as c:
            c.send(b"POST /upgrade HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 10000000\r\n\r\n")
            t = time.monotonic()
            r = c.read_response(timeout=3)
            self.assertLess(time.monotonic() - t, 1.0)
            self.assertEqual(r.status, 413, r)
            self.assertTrue(c.is_closed_by_peer(3))
        self.assertEqual(svc.status()["state"], "IDLE")

    def test_413_with_expect_continue(self):
        svc = self.make_service()
        with svc.conn(timeout=5) as c:
            c.send(b"POST /upgrade HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            c.sock.settimeout(3)
            data = c.sock.recv(200)
            self.assertTrue(data.startswith(b"HTTP/1.1 413"), data)

    def test_431_header_block_too_large(self):
        svc = self.make_service()
        with svc.conn(timeout=5) as c:
            c.send(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
            r = c.read_response(timeout=3)
            self.assertEqual(r.status, 431, r)

    def test_408_incomplete_request(self):
        svc = self.make_service(self.default_config(HTTP_REQUEST_TIMEOUT_SECONDS=1))
        for partial in (b"GET /health HTTP/1.1\r\nHost: x\r\n",
                        b"POST /upgrade HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"mode\":"):
            with self.subTest(partial=partial[:20]), svc.conn(timeout=5) as c:
                t = time.monotonic()
                c.send(partial)
                r = c.read_response(timeout=4)
                dt = time.monotonic() - t
                self.assertEqual(r.status, 408, r)
                self.assertGreaterEqual(dt, 0.8)
                self.assertLess(dt, 2.5)
                self.assertTrue(c.is_closed_by_peer(2))

    def test_408_slow_loris_cannot_extend(self):
        # Trickling bytes does not extend the request deadline.
        svc = self.make_service(self.default_config(HTTP_REQUEST_TIMEOUT_SECONDS=2))
        req = build_request("GET", "/health")
        with svc.conn(timeout=8) as c:
            t = time.monotonic()
            got = None
            for i in range(len(req) - 2):
                try:
                    c.send(req[i:i + 1])
                except OSError:
                    break
                c.sock.settimeout(0.25)
                try:
                    got = c.sock.recv(200)
                    break
                except socket.timeout:
                    pass
                if time.monotonic() - t > 6:
                    break
            dt = time.monotonic() - t
            self.assertTrue(got and got.startswith(b"HTTP/1.1 408"), got)
            self.assertLess(dt, 3.5)

    def test_idle_keepalive_closed(self):
        svc = self.make_service(self.default_config(HTTP_IDLE_TIMEOUT_SECONDS=2))
        with svc.conn(timeout=5) as c:
            self.assertEqual(c.request("GET", "/health").status, 200)
            t = time.monotonic()
            self.assertFalse(c.is_closed_by_peer(1.2), "closed before the idle timeout")
            self.assertTrue(c.is_closed_by_peer(3.0), "idle connection never closed")
            dt = time.monotonic() - t
            self.assertGreaterEqual(dt, 1.5)
            self.assertLess(dt, 4.0)
        # A connection that never sent anything is closed too.
        with svc.conn(timeout=5) as c:
            self.assertTrue(c.is_closed_by_peer(4.0))

    def test_fds_released_after_abuse(self):
        svc = self.make_service(self.default_config(HTTP_MAX_CONNECTIONS=2000))
        base = harness.open_fds(svc.pid)
        socks = connect_many(svc.port, 500)
        for s in socks[:250]:
            s.send(b"GET /hea")
        close_all(socks)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and harness.open_fds(svc.pid) > base + 2:
            time.sleep(0.1)
        self.assertLessEqual(harness.open_fds(svc.pid), base + 2, "descriptors leaked")
        self.timed_health(svc, 1.0)


if __name__ == "__main__":
    harness.main()
