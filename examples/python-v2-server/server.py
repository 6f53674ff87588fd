#!/usr/bin/env python3
"""
A small model server that shares nothing with vmbench's own: Python's
standard library (http.server) and numpy serve a dense network over the
Open Inference Protocol (KServe v2) REST API.

It exists to prove that the harness measures *any* server. Nothing in it
knows about vmbench: no phase lines, no /vmbench endpoints, no special
environment. Configuration, all optional:

  PORT         TCP port (default 8000), HOST (default 0.0.0.0)
  MODEL_NAME   name in /v2/models/{name} (default dense)
  MODEL_SEED   seed of the generated weights (default 0)
  V2_BREAK     comma-separated endpoints to get deliberately wrong, for testing
               protocol checkers: live, ready, server_metadata, model_metadata,
               model_ready, infer_id, infer_shape, error_json

The model: input "input" FP32 [-1, 256] -> dense 512 + ReLU -> dense 512 +
ReLU -> dense 10 -> softmax -> output "probabilities" FP32 [-1, 10].
"""
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

PORT = int(os.environ.get("PORT", "8000"))
HOST = os.environ.get("HOST", "0.0.0.0")
MODEL = os.environ.get("MODEL_NAME", "dense")
SEED = int(os.environ.get("MODEL_SEED", "0"))
BREAK = {b.strip() for b in os.environ.get("V2_BREAK", "").split(",") if b.strip()}
SERVER_NAME = "python-v2-example"
SERVER_VERSION = "1.0"
IN, HIDDEN, OUT = 256, 512, 10
MAX_BODY = 16 * 1024 * 1024


def weights(rng, rows, cols):
    return (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)


rng = np.random.default_rng(SEED)
W1, W2, W3 = weights(rng, IN, HIDDEN), weights(rng, HIDDEN, HIDDEN), weights(rng, HIDDEN, OUT)
B1 = (rng.standard_normal(HIDDEN) * 0.01).astype(np.float32)
B2 = (rng.standard_normal(HIDDEN) * 0.01).astype(np.float32)


def forward(x):
    h = np.maximum(x @ W1 + B1, 0)
    h = np.maximum(h @ W2 + B2, 0)
    z = h @ W3
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


forward(np.zeros((1, IN), dtype=np.float32))  # warm-up before saying ready
READY = True

METADATA = {
    "name": MODEL,
    "versions": ["1"],
    "platform": "numpy",
    "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, IN]}],
    "outputs": [{"name": "probabilities", "datatype": "FP32", "shape": [-1, OUT]}],
}


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def parse_infer(body):
    try:
        req = json.loads(body)
    except ValueError as e:
        raise BadRequest(400, f"request body is not JSON: {e}")
    if not isinstance(req, dict) or not isinstance(req.get("inputs"), list) or len(req["inputs"]) != 1:
        raise BadRequest(400, 'expected {"inputs": [one tensor]}')
    t = req["inputs"][0]
    if not isinstance(t, dict) or t.get("name") != "input":
        raise BadRequest(400, 'expected the input tensor "input"')
    if t.get("datatype") != "FP32":
        raise BadRequest(400, f"input datatype must be FP32, got {t.get('datatype')!r}")
    shape = t.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2 and shape[1] == IN and isinstance(shape[0], int) and shape[0] >= 1):
        raise BadRequest(400, f"input shape must be [N, {IN}], got {shape!r}")
    try:
        x = np.asarray(t.get("data"), dtype=np.float32).reshape(shape)
    except (TypeError, ValueError) as e:
        raise BadRequest(400, f"input data does not fill shape {shape}: {e}")
    return req, x


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"{SERVER_NAME}/{SERVER_VERSION}"
    # http.server writes the headers and the body in two send()s; with Nagle on, the body then waits
    # for the client's delayed ACK (≈ 40 ms on a keep-alive connection through docker-proxy), which
    # measured 44 ms p50 per inference in a container vs 14 ms in the VM. Servers in production set
    # TCP_NODELAY; so does this one, and it buffers the response into one write.
    disable_nagle_algorithm = True
    wbufsize = -1

    def log_message(self, fmt, *args):  # quiet: one line per request would cost more than the model
        pass

    def send(self, status, body=b"", content_type="application/json"):
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj).encode())

    def send_error_json(self, status, message):
        if "error_json" in BREAK:
            return self.send(status, b"bad request", "text/plain")
        self.send_json(status, {"error": message})

    def model_path(self, path):
        """'/v2/models/{name}[/versions/{v}]{rest}' -> (name, rest) or None."""
        parts = path.split("/")[3:]
        if not parts:
            return None
        name, rest = parts[0], parts[1:]
        if len(rest) >= 2 and rest[0] == "versions":
            rest = rest[2:]
        return name, "/".join(rest)

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/") or "/"
        if path == "/v2/health/live":
            return self.send(404 if "live" in BREAK else 200)
        if path == "/v2/health/ready":
            return self.send(200 if READY and "ready" not in BREAK else 503)
        if path == "/v2":
            meta = {"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": []}
            if "server_metadata" in BREAK:
                del meta["extensions"]
            return self.send_json(200, meta)
        if path.startswith("/v2/models/"):
            name, rest = self.model_path(path) or ("", "")
            if name != MODEL:
                return self.send_error_json(404, f"unknown model: {name}")
            if rest == "":
                if "model_metadata" in BREAK:
                    return self.send_json(200, {"name": MODEL})
                return self.send_json(200, METADATA)
            if rest == "ready":
                return self.send(404 if "model_ready" in BREAK else 200)
        self.send_error_json(404, f"unknown route: GET {path}")

    def do_POST(self):
        path = self.path.split("?")[0].rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return self.send_error_json(413, f"request body over {MAX_BODY} bytes")
        body = self.rfile.read(length)
        target = self.model_path(path) if path.startswith("/v2/models/") else None
        if not target or target[1] != "infer":
            return self.send_error_json(404, f"unknown route: POST {path}")
        if target[0] != MODEL:
            return self.send_error_json(404, f"unknown model: {target[0]}")
        try:
            req, x = parse_infer(body)
        except BadRequest as e:
            return self.send_error_json(e.status, str(e))
        y = forward(x)
        out = {"name": "probabilities", "datatype": "FP32", "shape": list(y.shape), "data": y.reshape(-1).tolist()}
        if "infer_shape" in BREAK:
            out["shape"] = [y.shape[0], OUT + 1]
        resp = {"model_name": MODEL, "model_version": "1", "outputs": [out]}
        if "id" in req and "infer_id" not in BREAK:
            resp["id"] = req["id"]
        self.send_json(200, resp)


def main():
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    server.daemon_threads = True
    # PID 1 in a container gets no default SIGTERM action: stop on it explicitly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{SERVER_NAME}: serving model {MODEL!r} on {HOST}:{PORT}" + (f" (broken on purpose: {sorted(BREAK)})" if BREAK else ""), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
