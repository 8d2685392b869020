#!/usr/bin/env python3
"""Webhook receiver for the Alertmanager side of tocsin's benchmark.

    python3 bench/sink.py PORT

Answers every POST with 200 and counts notifications and the alerts they carry;
GET returns the counts as JSON ({"notifications": N, "alerts": M, "bytes": B}).
"""
import http.server
import json
import sys
import threading

lock = threading.Lock()
counts = {"notifications": 0, "alerts": 0, "bytes": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            n = len(json.loads(body).get("alerts") or [])
        except ValueError:
            n = 0
        with lock:
            counts["notifications"] += 1
            counts["alerts"] += n
            counts["bytes"] += len(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        with lock:
            out = json.dumps(counts).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 19194
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
