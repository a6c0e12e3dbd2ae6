#!/usr/bin/python3
"""Local HTTP server for test-fetcher: each path is one server behaviour.

Binds 127.0.0.1 on an ephemeral port, prints the port on the first line of
stdout, and exits when stdin reaches end of file, so that it never outlives
the test that started it (the test holds the other end of the pipe)."""

import http.server
import os
import sys
import threading
import time

SLOW_SECONDS = 5
STREAM_CHUNK = b"x" * 8192
STREAM_MAX_BYTES = 4 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            self.route(self.path.split("?", 1)[0])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, path):
        if path == "/ok":
            self.answer(200, b"hello from http\n")
        elif path == "/empty":
            self.answer(200, b"")
        elif path == "/user-agent":
            self.answer(200, self.headers.get("User-Agent", "").encode())
        elif path == "/redirect-ok":
            self.answer(302, b"", [("Location", "/ok")])
        elif path == "/redirect-ftp":
            self.answer(302, b"", [("Location", "ftp://127.0.0.1/x")])
        elif path == "/redirect-loop":
            self.answer(302, b"", [("Location", "/redirect-loop")])
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self.answer(200, b"too late\n")
        elif path == "/stream":
            # No Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            sent = 0
            while sent < STREAM_MAX_BYTES:
                self.wfile.write(STREAM_CHUNK)
                sent += len(STREAM_CHUNK)
        elif path == "/big":
            self.answer(200, b"y" * 100000)
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"z" * 100)
            self.wfile.flush()
            self.close_connection = True
        else:
            self.answer(404, b"not found\n")


def exit_on_stdin_eof():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
