"""The stand-in's server: Ollama's own HTTP API (version, tags, a streamed pull) on a real socket, and the
model list of its OpenAI-compatible API (/v1/models), which is what Billy's doctor reads.

The real release cannot be downloaded here. The pull streams the same NDJSON lines as Ollama's /api/pull
(manifest, per-layer total/completed, digest check, success, or an "error" line), paced so that a client
sees the progress arrive over time; the pulled names are kept in a file, as the models directory would.
"""

import hashlib
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = Path(os.environ.get("OLLAMA_MODELS", "/var/lib/ollama")) / "standin-models"
LAYER_BYTES = (637_000_000, 98, 7_000)  # the weights, then the small template and parameter layers
STEPS = 20


def full_name(name):
    return name if ":" in name else name + ":latest"


def pulled():
    return MODELS.read_text().split() if MODELS.exists() else []


class Api(BaseHTTPRequestHandler):
    def send_json(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/version":
            self.send_json({"version": (HERE / "VERSION").read_text().strip()})
        elif self.path == "/api/tags":
            self.send_json({"models": [{"name": name, "model": name} for name in pulled()]})
        elif self.path == "/v1/models":
            self.send_json({"object": "list", "data": [{"id": name, "object": "model"} for name in pulled()]})
        else:
            self.send_json({"error": "not found"}, 404)

    def do_POST(self):
        if self.path != "/api/pull":
            self.send_json({"error": "not found"}, 404)
            return
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = full_name(request.get("model") or request["name"])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        self.line({"status": "pulling manifest"})
        if name.startswith("no-such-model"):
            self.line({"error": "pull model manifest: file does not exist"})
            return
        for size in LAYER_BYTES:
            digest = "sha256:" + hashlib.sha256(f"{name}{size}".encode()).hexdigest()
            for step in range(STEPS + 1):
                status = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": size}
                self.line(status | {"completed": size * step // STEPS})
                time.sleep(0.05)  # a download takes time: the client must see progress arrive, not all at once
        self.line({"status": "verifying sha256 digest"})
        self.line({"status": "writing manifest"})
        if name not in pulled():
            with MODELS.open("a") as models:
                models.write(name + "\n")
        self.line({"status": "success"})

    def line(self, body):
        self.wfile.write(json.dumps(body).encode() + b"\n")
        self.wfile.flush()


if __name__ == "__main__":
    host, port = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Api).serve_forever()
