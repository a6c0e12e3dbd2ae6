#!/usr/bin/env python3
"""Benchmarks of payram-updater on the machine it runs on (driver; see run.sh).

Measures, against a release build, only over 127.0.0.1:
  1. /health throughput and latency with wrk (keep-alive at 64 and 512
     connections, and one request per connection);
  2. resident memory: idle, after 100k and 200k requests, holding 1000 idle
     connections;
  3. cold socket activation under systemd-socket-activate: connect() to the
     first byte of the answer when the service is not running yet;
  4. the HTTP parser alone (parser-bench, ns per request);
  5. /upgrade/status latency while a job waits on a policy server that takes
     20 s to answer (the event loop must not block).

Prints a table and writes the figures as JSON.  Also:
  bench.py --compare A.json B.json   side-by-side comparison of two runs.
Only the Python 3 standard library is used.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LUA = os.path.join(HERE, "wrk-report.lua")
SLOW_SERVER = os.path.join(HERE, "slow-policy-server.py")

_procs = []  # every process we started, stopped in cleanup()


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- helpers

def port_free(port):
    """Nothing listens on 127.0.0.1:PORT (TIME_WAIT leftovers do not count:
    the daemon binds with SO_REUSEADDR too)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def listening(port):
    """True when something listens on 127.0.0.1:PORT, without connecting
    (a connection would trigger the activation we want to time)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want and parts[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def http_get(port, path, method="GET", body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data
    finally:
        conn.close()


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "VmData"):
                out[k] = int(v.split()[0])  # kB
    return out


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime, stime are fields 14, 15
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def n_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def stop_process(p, timeout=5):
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def cleanup():
    while _procs:
        stop_process(_procs.pop())


def pct(values, q):
    """Nearest-rank percentile of a list (q in 0..100)."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(q / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ---------------------------------------------------------------- the daemon

class Daemon:
    def __init__(self, args, workdir, name, port, extra_env=None):
        self.name = name
        self.port = port
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        if not port_free(port):
            raise SystemExit(f"port {port} is busy on 127.0.0.1; choose another with --port")
        self.env = daemon_env(args, self.dir, port, extra_env)
        self.logpath = os.path.join(self.dir, "daemon.log")
        self.logf = open(self.logpath, "wb")
        # The environment carries the configuration; the file is empty.
        conf = os.path.join(self.dir, "empty.env")
        open(conf, "w").close()
        self.p = subprocess.Popen([args.binary, "-c", conf], env=self.env,
                                  stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _procs.append(self.p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise SystemExit(f"{name}: daemon exited with {self.p.returncode}; log:\n" + self.log_tail())
            try:
                if http_get(port, "/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise SystemExit(f"{name}: daemon did not answer /health within 10 s; log:\n" + self.log_tail())

    def log_tail(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self):
        return self.p.pid

    def mem(self):
        return proc_status(self.pid)

    def cpu(self):
        return proc_cpu_seconds(self.pid)

    def stop(self):
        stop_process(self.p)
        if self.p in _procs:
            _procs.remove(self.p)
        self.logf.close()


def daemon_env(args, d, port, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "LANG": "C.UTF-8",
        "STATE_DIR": os.path.join(d, "state"),
        "LOG_DIR": os.path.join(d, "log"),
        "UPDATER_PORT": str(port),
        "POLICY_URL": "file://" + os.path.join(ROOT, "examples", "upgrade-policy.json"),
        "RUNTIME_MANIFEST_URL": "file://" + os.path.join(ROOT, "examples", "runtime-manifest.json"),
        "HTTP_MAX_CONNECTIONS": "1024",
    }
    env.update(args.env)
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- wrk

def wrk(url, conns, duration, threads=2, headers=(), env_extra=None):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "5s", "--latency",
           "-s", LUA]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    env = dict(os.environ)
    env.update(env_extra or {})
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            r = json.loads(line[len("WRKJSON "):])
            r["rps"] = int(round(r["requests"] / (r["duration_us"] / 1e6))) if r["duration_us"] else 0
            r["errors"] = sum(r[k] for k in r if k.startswith("errors_"))
            r["connections"] = conns
            r["threads"] = threads
            return r
    raise SystemExit(f"wrk gave no result (rc {out.returncode}):\n{out.stdout}\n{out.stderr}")


def wrk_with_cpu(d, path, conns, duration, headers=()):
    c0 = d.cpu()
    r = wrk(f"http://127.0.0.1:{d.port}{path}", conns, duration, headers=headers)
    cpu = d.cpu() - c0
    r["server_cpu_s"] = round(cpu, 2)
    r["server_cpu_us_per_req"] = round(cpu * 1e6 / r["requests"], 2) if r["requests"] else None
    return r


# ---------------------------------------------------------------- phases

def phase_throughput(args, workdir):
    log("throughput: /health with wrk")
    d = Daemon(args, workdir, "throughput", args.port)
    try:
        wrk(f"http://127.0.0.1:{d.port}/health", 64, 2)  # warm-up
        res = {}
        for key, conns, headers in (("keepalive_64", 64, ()), ("keepalive_512", 512, ()),
                                    ("close_64", 64, ("Connection: close",))):
            r = wrk_with_cpu(d, "/health", conns, args.duration, headers)
            log(f"  {key}: {r['rps']:.0f} req/s, p50 {r['lat_p50_us']} us, p99 {r['lat_p99_us']} us, "
                f"errors {r['errors']}")
            res[key] = r
        res["rss_after_kb"] = d.mem()["VmRSS"]
        return res
    finally:
        d.stop()


def hold_connections(port, n, send_request):
    """Opens N connections to 127.0.0.1:PORT; with SEND_REQUEST each sends
    one keep-alive GET /health and reads the answer first.  Returns the
    sockets (still open) and how many answered 200."""
    socks, ok = [], 0
    req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(s)
        if send_request:
            s.sendall(req)
            data = b""
            while b"\r\n\r\n" not in data or not data.endswith(b"}"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            ok += data.startswith(b"HTTP/1.1 200")
    return socks, ok


def phase_memory(args, workdir):
    log("memory: RSS idle, after requests, holding idle connections")
    d = Daemon(args, workdir, "memory", args.port + 1)
    res = {}
    try:
        time.sleep(0.3)
        res["idle"] = d.mem()
        url = f"http://127.0.0.1:{d.port}/health"
        done = 0
        for label in ("after_100k", "after_200k"):
            # wrk runs for its whole -d even when its threads stop early, so the
            # count is reached in 1-second runs, the last one capped per thread.
            goal = done + args.requests
            for _ in range(200):
                left = goal - done
                if left <= 0:
                    break
                r = wrk(url, 64, 1, env_extra={"WRK_STOP_AFTER": str(max(1, (left + 1) // 2))})
                done += r["requests"]
            time.sleep(0.2)
            res[label] = d.mem()
            res[label]["requests_total"] = done
            log(f"  {label}: {done} requests, VmRSS {res[label]['VmRSS']} kB")

        base_fds = n_fds(d.pid)
        for label, send in (("hold_1000_fresh", False), ("hold_1000_after_request", True)):
            before = d.mem()["VmRSS"]
            socks, ok = hold_connections(d.port, args.hold, send)
            time.sleep(0.5)
            m = d.mem()
            m["connections_open_in_server"] = n_fds(d.pid) - base_fds
            m["answered_200"] = ok if send else None
            m["rss_delta_kb"] = m["VmRSS"] - before
            m["bytes_per_connection"] = round(m["rss_delta_kb"] * 1024 / args.hold)
            for s in socks:
                s.close()
            time.sleep(0.5)
            m["VmRSS_after_close"] = d.mem()["VmRSS"]
            res[label] = m
            log(f"  {label}: VmRSS {m['VmRSS']} kB (+{m['rss_delta_kb']} kB, "
                f"{m['connections_open_in_server']} fds in server), after close {m['VmRSS_after_close']} kB")
        res["final"] = d.mem()
        return res
    finally:
        d.stop()


def first_byte_ns(port, timeout=10):
    """connect() -> first byte of the answer to GET /health, in ns; and the status."""
    s = socket.socket()
    s.settimeout(timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        t0 = time.perf_counter_ns()
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = s.recv(1)
        t1 = time.perf_counter_ns()
        data = first
        while b"\r\n\r\n" not in data or not data.endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return t1 - t0, data.startswith(b"HTTP/1.1 200")
    finally:
        s.close()


def phase_activation(args, workdir):
    log(f"cold activation: {args.samples} x systemd-socket-activate")
    sa = shutil.which("systemd-socket-activate")
    if not sa:
        raise SystemExit("systemd-socket-activate not found")
    d = os.path.join(workdir, "activation")
    os.makedirs(d, exist_ok=True)
    samples, failures = [], 0
    for i in range(args.samples):
        port = args.port + 10 + (i % 40)
        if not port_free(port):
            raise SystemExit(f"port {port} is busy")
        env = daemon_env(args, d, port)
        cmd = [sa, "-l", f"127.0.0.1:{port}"]
        for k in ["STATE_DIR", "LOG_DIR", "POLICY_URL", "RUNTIME_MANIFEST_URL", "PATH", "LANG"] + list(args.env):
            cmd += ["-E", f"{k}={env[k]}"]
        conf = os.path.join(d, "empty.env")
        open(conf, "w").close()
        cmd += [args.binary, "-c", conf]
        with open(os.path.join(d, "activate.log"), "ab") as logf:
            p = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _procs.append(p)
        try:
            deadline = time.monotonic() + 5
            while not listening(port):
                if p.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("systemd-socket-activate did not start listening")
                time.sleep(0.002)
            time.sleep(0.05)  # let it settle in epoll_wait
            ns, ok = first_byte_ns(port)
            if ok:
                samples.append(ns / 1e6)
            else:
                failures += 1
        finally:
            stop_process(p)
            _procs.remove(p)

    # The same client against a service already running: what is not activation.
    warm = []
    dd = Daemon(args, workdir, "activation-warm", args.port + 4)
    try:
        for _ in range(args.samples):
            ns, ok = first_byte_ns(dd.port)
            if ok:
                warm.append(ns / 1e6)
    finally:
        dd.stop()

    res = {
        "samples": len(samples),
        "failures": failures,
        "cold_ms_median": round(statistics.median(samples), 3) if samples else None,
        "cold_ms_p90": round(pct(samples, 90), 3) if samples else None,
        "cold_ms_min": round(min(samples), 3) if samples else None,
        "cold_ms_max": round(max(samples), 3) if samples else None,
        "warm_ms_median": round(statistics.median(warm), 3) if warm else None,
        "warm_ms_p90": round(pct(warm, 90), 3) if warm else None,
    }
    log(f"  cold median {res['cold_ms_median']} ms, p90 {res['cold_ms_p90']} ms "
        f"(already running: {res['warm_ms_median']} ms)")
    return res


def phase_parser(args):
    log("parser microbenchmark")
    out = subprocess.run([args.parser_bench, str(args.parser_runs), "100"], capture_output=True, text=True,
                         timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"parser-bench failed: {out.stderr}")
    r = json.loads(out.stdout)
    for c in r["cases"]:
        log(f"  {c['name']}: {c['ns_median']} ns/request ({c['bytes']} bytes)")
    return r


def phase_slow_policy(args, workdir):
    log(f"/upgrade/status while a job waits {args.policy_delay:.0f} s for its policy")
    sport = args.port + 3
    if not port_free(sport):
        raise SystemExit(f"port {sport} is busy")
    policy = os.path.join(ROOT, "examples", "upgrade-policy.json")
    srv = subprocess.Popen([sys.executable, SLOW_SERVER, str(sport), str(args.policy_delay), policy],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    _procs.append(srv)
    d = None
    try:
        if srv.stdout.readline().strip() != "ready":
            raise SystemExit("slow policy server did not start")
        d = Daemon(args, workdir, "slow-policy", args.port + 2, {
            "POLICY_URL": f"http://127.0.0.1:{sport}/upgrade-policy.json",
            "FETCH_TIMEOUT_SECONDS": str(int(args.policy_delay) + 30),
        })
        res = {"policy_delay_s": args.policy_delay}
        res["no_job"] = wrk_with_cpu(d, "/upgrade/status", 64, max(2, args.duration // 2))

        t0 = time.perf_counter()
        status, body = http_get(d.port, "/upgrade", "POST",
                                json.dumps({"mode": "MANUAL", "requested_target": "latest"}),
                                {"Content-Type": "application/json", "Prefer": "respond-async"})
        res["post_async_status"] = status
        res["post_async_ms"] = round((time.perf_counter() - t0) * 1e3, 2)
        res["state_before"] = json.loads(http_get(d.port, "/upgrade/status")[1]).get("state")

        res["job_waiting"] = wrk_with_cpu(d, "/upgrade/status", 64, args.duration)
        res["state_after"] = json.loads(http_get(d.port, "/upgrade/status")[1]).get("state")
        res["loop_not_blocked"] = (status == 202 and res["state_before"] == "POLICY_FETCHING" and
                                   res["state_after"] == "POLICY_FETCHING" and
                                   res["job_waiting"]["errors"] == 0 and
                                   res["job_waiting"]["lat_max_us"] < 1e6)
        j = res["job_waiting"]
        log(f"  POST {status} in {res['post_async_ms']} ms; state {res['state_before']} -> {res['state_after']}; "
            f"status p50 {j['lat_p50_us']} us p99 {j['lat_p99_us']} us max {j['lat_max_us']} us, "
            f"{j['rps']:.0f} req/s")
        return res
    finally:
        if d:
            d.stop()
        stop_process(srv)
        _procs.remove(srv)


# ---------------------------------------------------------------- machine

def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(args):
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = sh(["git", "-C", ROOT, "rev-parse", "HEAD"])
    dirty = bool(sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "cpu_model": cpu,
        "nproc": len(os.sched_getaffinity(0)),
        "mem_total_mb": mem_kb // 1024,
        "git_commit": commit,
        "git_dirty": dirty,
        "compiler": sh(["cc", "--version"]).splitlines()[0] if sh(["cc", "--version"]) else "",
        "wrk": sh(["sh", "-c", "wrk -v 2>&1 | head -1"]),
        "libsystemd": sh(["pkg-config", "--modversion", "libsystemd"]),
        "build": args.build_info,
        "binary": args.binary,
        "extra_env": args.env,
        "loadavg_start": loadavg(),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- report

def flat(r):
    """(label, value, unit, better) rows for the table and for --compare."""
    rows = []
    t = r.get("throughput") or {}
    for key, name in (("keepalive_64", "keep-alive, 64 conns"), ("keepalive_512", "keep-alive, 512 conns"),
                      ("close_64", "Connection: close, 64 conns")):
        x = t.get(key)
        if not x:
            continue
        rows += [
            (f"/health {name}: throughput", x["rps"], "req/s", "higher"),
            (f"/health {name}: p50", x["lat_p50_us"], "us", "lower"),
            (f"/health {name}: p99", x["lat_p99_us"], "us", "lower"),
            (f"/health {name}: server CPU", x["server_cpu_us_per_req"], "us/req", "lower"),
            (f"/health {name}: errors", x["errors"], "", "lower"),
        ]
    m = r.get("memory") or {}
    if m:
        rows += [
            ("RSS idle (VmRSS)", m["idle"]["VmRSS"], "kB", "lower"),
            ("RSS idle (VmHWM)", m["idle"]["VmHWM"], "kB", "lower"),
            ("RSS after 100k requests (VmRSS)", m["after_100k"]["VmRSS"], "kB", "lower"),
            ("RSS after 200k requests (VmRSS)", m["after_200k"]["VmRSS"], "kB", "lower"),
            ("  requests actually sent (wrk, 64 conns)", m["after_200k"]["requests_total"], "", ""),
            ("RSS holding 1000 fresh idle conns (VmRSS)", m["hold_1000_fresh"]["VmRSS"], "kB", "lower"),
            ("  per fresh connection", m["hold_1000_fresh"]["bytes_per_connection"], "B", "lower"),
            ("RSS holding 1000 idle keep-alive conns (VmRSS)", m["hold_1000_after_request"]["VmRSS"], "kB",
             "lower"),
            ("  per keep-alive connection", m["hold_1000_after_request"]["bytes_per_connection"], "B", "lower"),
            ("RSS after closing them (VmRSS)", m["hold_1000_after_request"]["VmRSS_after_close"], "kB", "lower"),
            ("peak RSS (VmHWM)", m["final"]["VmHWM"], "kB", "lower"),
        ]
    a = r.get("activation") or {}
    if a:
        rows += [
            ("cold activation connect->1st byte: median", a["cold_ms_median"], "ms", "lower"),
            ("cold activation connect->1st byte: p90", a["cold_ms_p90"], "ms", "lower"),
            ("  same, service already running: median", a["warm_ms_median"], "ms", "lower"),
        ]
    p = r.get("parser") or {}
    for c in p.get("cases", []):
        rows.append((f"parser {c['name']} ({c['bytes']} B)", c["ns_median"], "ns/req", "lower"))
    s = r.get("slow_policy") or {}
    if s:
        rows += [
            ("/upgrade/status, no job: p99", s["no_job"]["lat_p99_us"], "us", "lower"),
            ("/upgrade/status, job waiting on policy: p50", s["job_waiting"]["lat_p50_us"], "us", "lower"),
            ("/upgrade/status, job waiting on policy: p99", s["job_waiting"]["lat_p99_us"], "us", "lower"),
            ("/upgrade/status, job waiting on policy: max", s["job_waiting"]["lat_max_us"], "us", "lower"),
            ("/upgrade/status, job waiting on policy: throughput", s["job_waiting"]["rps"], "req/s", "higher"),
            ("  POST /upgrade (respond-async) answered in", s["post_async_ms"], "ms", "lower"),
            ("  loop not blocked (state stayed POLICY_FETCHING, no errors)", s["loop_not_blocked"], "", ""),
        ]
    return rows


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        if abs(v) < 1:
            return f"{v:.3f}"
        return f"{v:,.1f}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_table(r, out=sys.stdout):
    mi = r["machine"]
    print(f"\npayram-updater benchmarks  {mi['date']}  {mi['hostname']}  {mi['cpu_model']}  "
          f"nproc={mi['nproc']}  kernel {mi['kernel']}  commit {mi['git_commit'][:12]}"
          f"{' (dirty)' if mi['git_dirty'] else ''}  load {mi['loadavg_start']} -> {mi.get('loadavg_end', '?')}",
          file=out)
    rows = flat(r)
    w = max(len(x[0]) for x in rows)
    print(f"{'figure':<{w}}  {'value':>12}  unit", file=out)
    print("-" * (w + 22), file=out)
    for label, v, unit, _ in rows:
        print(f"{label:<{w}}  {fmt(v):>12}  {unit}", file=out)


def compare(a_path, b_path):
    with open(a_path) as f:
        a = json.load(f)
    with open(b_path) as f:
        b = json.load(f)
    ra = {x[0]: x for x in flat(a)}
    rb = {x[0]: x for x in flat(b)}
    labels = [x[0] for x in flat(a)] + [x[0] for x in flat(b) if x[0] not in ra]
    w = max(len(x) for x in labels)
    print(f"A: {a_path}  ({a['machine']['date']}, {a['machine']['git_commit'][:12]})")
    print(f"B: {b_path}  ({b['machine']['date']}, {b['machine']['git_commit'][:12]})")
    print(f"{'figure':<{w}}  {'A':>12}  {'B':>12}  {'B vs A':>8}  unit")
    print("-" * (w + 48))
    for label in labels:
        va = ra.get(label, (None, None, "", ""))[1]
        vb = rb.get(label, (None, None, "", ""))[1]
        unit = (ra.get(label) or rb.get(label))[2]
        delta = ""
        if (isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool)
                and va):
            delta = f"{(vb - va) / va * 100:+.1f}%"
        print(f"{label:<{w}}  {fmt(va):>12}  {fmt(vb):>12}  {delta:>8}  {unit}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", help="payram-updater built for benchmarking")
    ap.add_argument("--parser-bench", help="parser-bench binary")
    ap.add_argument("--out", help="directory or .json file for the results (default tools/bench/results/)")
    ap.add_argument("--port", type=int, default=23700, help="first of the 127.0.0.1 ports used (default 23700; "
                    "uses PORT..PORT+49)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    ap.add_argument("--requests", type=int, default=100000, help="requests per memory step (default 100000)")
    ap.add_argument("--hold", type=int, default=1000, help="idle connections to hold (default 1000)")
    ap.add_argument("--samples", type=int, default=50, help="cold activation samples (default 50)")
    ap.add_argument("--parser-runs", type=int, default=9, help="parser runs, median taken (default 9)")
    ap.add_argument("--policy-delay", type=float, default=20.0, help="slow policy server delay (default 20 s)")
    ap.add_argument("--only", help="comma-separated subset: throughput,memory,activation,parser,slow_policy")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for every daemon started (repeatable)")
    ap.add_argument("--build-info", default="", help=argparse.SUPPRESS)
    ap.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="compare two result files")
    args = ap.parse_args()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` is fine

    if args.compare:
        compare(*args.compare)
        return
    if not args.binary or not args.parser_bench:
        ap.error("--binary and --parser-bench are required (run tools/bench/run.sh)")
    args.env = dict(e.split("=", 1) for e in args.env)
    args.binary = os.path.abspath(args.binary)
    args.parser_bench = os.path.abspath(args.parser_bench)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < args.hold + 600:
        raise SystemExit(f"RLIMIT_NOFILE {want} is too low for {args.hold} held and 512 wrk connections")

    phases = ["throughput", "memory", "activation", "parser", "slow_policy"]
    if args.only:
        phases = [p for p in args.only.split(",") if p in phases]

    result = {"schema": 1, "machine": machine_info(args), "rlimit_nofile": want}
    workdir = tempfile.mkdtemp(prefix="payram-bench-")
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for ph in phases:
            if ph == "throughput":
                result["throughput"] = phase_throughput(args, workdir)
            elif ph == "memory":
                result["memory"] = phase_memory(args, workdir)
            elif ph == "activation":
                result["activation"] = phase_activation(args, workdir)
            elif ph == "parser":
                result["parser"] = phase_parser(args)
            elif ph == "slow_policy":
                result["slow_policy"] = phase_slow_policy(args, workdir)
    finally:
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    result["bench_seconds"] = round(time.monotonic() - t0, 1)
    result["machine"]["loadavg_end"] = loadavg()

    out = args.out or os.path.join(HERE, "results")
    if not out.endswith(".json"):
        os.makedirs(out, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out = os.path.join(out, f"{stamp}-{socket.gethostname()}.json")
    else:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    print_table(result)
    print(f"\n(total {result['bench_seconds']} s; JSON written to {out})")


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
