#!/usr/bin/env python3
"""Serve a folder over HTTP on 127.0.0.1, optionally answering slowly.

Used by tools/demo.sh to publish the example policy and manifest the way a
real host fetches them (over HTTP), with a delay so that a job stays in
progress long enough to show the 409 answer.

  serve-files.py DIR [--delay SECONDS] [--port-file PATH]

Prints the chosen port on stdout (and writes it to --port-file).
"""
import argparse
import functools
import http.server
import sys
import time


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):
        time.sleep(self.delay)
        super().do_GET()

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--port-file")
    args = ap.parse_args()

    SlowHandler.delay = args.delay
    handler = functools.partial(SlowHandler, directory=args.dir)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(f"{port}\n")
    print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
