#!/usr/bin/env python3
"""A chaoslab node in Python (standard library only): the hello cluster's frontend, rewritten.

The lab starts it with the environment variable CHAOSLAB_NODE (JSON: name, group, index, host, ports, peers,
params, seed, runId). It must listen on host:ports["http"], answer GET /health with 200 when ready, and serve
Prometheus metrics on GET /metrics. It reaches the backend only through peers["backend"][0], a Toxiproxy address,
so the lab can slow or cut that link. Whatever it prints goes to the run folder's <variant>/logs/<name>.log.
"""
import json
import os
import random
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

config = json.loads(os.environ["CHAOSLAB_NODE"])
params = config["params"]
timeout_s = params.get("timeoutMs", 0) / 1000 or None  # 0 = wait as long as the backend takes
backend = config["peers"]["backend"][0]
rng = random.Random(config["seed"])  # every random choice from the run's seed (this example makes none)

lock = threading.Lock()
counts = {"ok": 0, "fallback": 0, "error": 0}


def count(outcome):
    with lock:
        counts[outcome] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"ok": True, "node": config["name"]})
        if self.path == "/metrics":
            with lock:
                lines = ["# HELP byo_requests_total Requests by outcome.", "# TYPE byo_requests_total counter"]
                lines += [f'byo_requests_total{{outcome="{k}"}} {v}' for k, v in counts.items()]
            return self.reply(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4")
        if self.path == "/admin/config":
            return self.reply(200, config)
        if self.path.startswith("/item/"):
            try:
                with urllib.request.urlopen(f"http://{backend}{self.path}", timeout=timeout_s) as r:
                    body = json.loads(r.read())
                count("ok")
                return self.reply(200, body)
            except (urllib.error.URLError, TimeoutError, OSError) as e:
                if params.get("fallback", False):
                    count("fallback")
                    return self.reply(200, {"value": "default", "degraded": True})
                count("error")
                return self.reply(504, {"error": str(e)})
        self.reply(404, {"error": "not found"})

    def log_message(self, *args):
        pass  # one line per request would drown the log


server = ThreadingHTTPServer((config["host"], config["ports"]["http"]), Handler)
server.daemon_threads = True
# The lab stops a node with SIGTERM: finish and exit 0.
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
print(f"[{config['name']}] listening on {config['host']}:{config['ports']['http']}, backend via {backend}", flush=True)
server.serve_forever()
sys.exit(0)
