"""A stand-in model server: answers ``/v1/models``, then dies by a signal on a completion.

``--die-on N`` kills it on the N-th chat completion (1: the readiness probe). Before that it
answers each completion with "OK". Used to prove that a server built for another CPU is
reported in one line, not retried as a connection error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--die-on", type=int, default=1)
parser.add_argument("--signal", default="SIGILL")
args = parser.parse_args()
completions = 0


class Handler(BaseHTTPRequestHandler):
    def _json(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "stand-in", "object": "model"}]})

    def do_POST(self) -> None:
        global completions
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        completions += 1
        if completions >= args.die_on:
            os.kill(os.getpid(), getattr(signal, args.signal))
            time.sleep(30)  # delivery may lag a moment: never answer this request
        self._json(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": "stand-in",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "OK"},
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    def log_message(self, *a: object) -> None:
        pass


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
