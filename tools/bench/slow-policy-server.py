#!/usr/bin/env python3
"""A policy server that answers slowly: every GET waits DELAY seconds, then
answers with the contents of FILE.  Listens on 127.0.0.1:PORT only, prints
"ready" once listening.  Used by tools/bench to keep a job in
POLICY_FETCHING while /upgrade/status is measured.

Usage: slow-policy-server.py PORT DELAY_SECONDS FILE
"""
import http.server
import sys
import time

MAX_DELAY = 120.0


def main() -> None:
    port = int(sys.argv[1])
    delay = min(float(sys.argv[2]), MAX_DELAY)
    with open(sys.argv[3], "rb") as f:
        payload = f.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
            time.sleep(delay)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up; nothing to do

        def log_message(self, fmt: str, *args: object) -> None:
            sys.stderr.write("slow-policy-server: " + (fmt % args) + "\n")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
