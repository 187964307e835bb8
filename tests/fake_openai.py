"""A local OpenAI-compatible chat server for tests: scripted replies, faults on demand.

It speaks real HTTP on 127.0.0.1 (random port) from its own thread, so the client under
test runs unchanged. Only the model is fake.

    from fake_openai import FakeOpenAI          # tests/ is on sys.path (tests/conftest.py)

    with FakeOpenAI() as fake:                  # or the `fake_openai` fixture
        fake.add_text("hello")                  # replies are served first in, first out
        fake.add_tool_call("file_read", {"path": "a.txt"})
        fake.add_tool_call("file_read", raw_arguments='{"path": "a.t')   # truncated JSON
        fake.add_fault("rate_limit", retry_after=0.05)                    # next request: 429
        fake.fault_rate = 0.3                   # random transient faults (seeded, see seed=)
        profile = ModelProfile(model=fake.model, base_url=fake.base_url, api_key_env=None)
        ...
        fake.requests                           # JSON bodies of chat requests received
        fake.faults_served                      # Counter: fault kind -> times served

When the queue is empty the server answers ``fake.responder(body)`` if set, else
``fake.default_text``. Faults come from :data:`FAULTS`; :data:`TRANSIENT_FAULTS` are the
ones a client should retry. A random fault does not consume a queued reply.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

FaultKind = Literal[
    "rate_limit",  # 429 with Retry-After
    "server_error",  # 500
    "bad_gateway",  # 502
    "unavailable",  # 503
    "gateway_timeout",  # 504
    "hang",  # no answer for `hang_s` seconds (past the client's timeout)
    "drop",  # the connection is closed without a response
    "not_json",  # 200 whose body is not JSON
    "bad_request",  # 400
    "context_overflow",  # 400: the prompt is longer than the context window
    "tool_choice_unsupported",  # 400: a server without tool_choice="required"
    "unauthorized",  # 401
    "forbidden",  # 403
    "not_found",  # 404
]
FAULTS: tuple[FaultKind, ...] = FaultKind.__args__  # type: ignore[attr-defined]
TRANSIENT_FAULTS: tuple[FaultKind, ...] = (
    "rate_limit",
    "server_error",
    "bad_gateway",
    "unavailable",
    "gateway_timeout",
    "hang",
    "drop",
    "not_json",
)
_STATUS: dict[str, tuple[int, str]] = {
    "rate_limit": (429, "Rate limit reached, retry later"),
    "server_error": (500, "The server had an error while processing your request"),
    "bad_gateway": (502, "Bad gateway"),
    "unavailable": (503, "The engine is currently overloaded"),
    "gateway_timeout": (504, "Gateway timeout"),
    "bad_request": (400, "Invalid request: 'messages' is malformed"),
    "context_overflow": (
        400,
        "This model's maximum context length is 8192 tokens. However, you requested 10124 "
        "tokens (8624 in the messages, 1500 in the completion). Please reduce the length of "
        "the messages or completion.",
    ),
    "tool_choice_unsupported": (400, "'tool_choice' value 'required' is not supported"),
    "unauthorized": (401, "Incorrect API key provided"),
    "forbidden": (403, "You do not have access to this model"),
    "not_found": (404, "The model does not exist"),
}


@dataclass
class Reply:
    """One scripted chat completion. ``tool_calls`` holds (name, raw JSON arguments) pairs."""

    text: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0


@dataclass
class Fault:
    """One injected fault; ``retry_after`` (seconds) only matters for ``rate_limit``."""

    kind: FaultKind
    retry_after: float | None = None


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 with a queue of replies and faults."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        api_key: str | None = None,
        seed: int = 0,
        hang_s: float = 3.0,
        retry_after: float = 0.01,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.hang_s = hang_s
        self.retry_after = retry_after
        self.default_text = "ok"
        self.responder: Callable[[dict[str, Any]], Reply | Fault | str] | None = None
        self.fault_rate = 0.0
        self.fault_kinds: tuple[FaultKind, ...] = TRANSIENT_FAULTS
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.faults_served: Counter[str] = Counter()
        self.replies_served = 0
        self._queue: list[Reply | Fault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        """Serve from a daemon thread; idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="fake-openai",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release hanging requests."""
        self._stop.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting -----------------------------------------------------------------

    def add_text(self, text: str, **kwargs: Any) -> None:
        """Queue a plain text reply (kwargs as :class:`Reply`)."""
        self._push(Reply(text=text, **kwargs))

    def add_texts(self, texts: Iterable[str]) -> None:
        """Queue several text replies."""
        for text in texts:
            self.add_text(text)

    def add_tool_call(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        raw_arguments: str | None = None,
        text: str | None = None,
    ) -> None:
        """Queue a native tool call; ``raw_arguments`` sends that exact (maybe broken) string."""
        raw = raw_arguments if raw_arguments is not None else json.dumps(arguments or {})
        self._push(Reply(text=text, tool_calls=[(name, raw)]))

    def add_truncated_tool_call(self, name: str, arguments: dict[str, Any]) -> None:
        """Queue a tool call whose JSON arguments are cut off, as when a reply hits max_tokens."""
        raw = json.dumps(arguments)
        self._push(
            Reply(tool_calls=[(name, raw[: max(1, len(raw) * 2 // 3)])], finish_reason="length")
        )

    def add_reply(self, reply: Reply) -> None:
        """Queue a fully specified reply."""
        self._push(reply)

    def add_fault(
        self, kind: FaultKind, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        """Queue ``times`` faults of one kind for the next requests."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        for _ in range(times):
            self._push(Fault(kind, retry_after))

    def pending(self) -> int:
        """Queued replies and faults not yet served."""
        with self._lock:
            return len(self._queue)

    def _push(self, item: Reply | Fault) -> None:
        with self._lock:
            self._queue.append(item)

    # --- serving -------------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> Reply | Fault:
        with self._lock:
            if self.fault_rate and self._rng.random() < self.fault_rate:
                return Fault(self._rng.choice(self.fault_kinds))
            if self._queue:
                return self._queue.pop(0)
        if self.responder is not None:
            answer = self.responder(body)
            return Reply(text=answer) if isinstance(answer, str) else answer
        return Reply(text=self.default_text)

    def _completion(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{self.replies_served}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": raw},
                }
                for i, (name, raw) in enumerate(reply.tool_calls)
            ]
        finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
        prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
        prompt = reply.prompt_tokens if reply.prompt_tokens is not None else prompt_chars // 4 + 1
        out_chars = len(reply.text or "") + sum(len(raw) for _, raw in reply.tool_calls)
        completion = (
            reply.completion_tokens if reply.completion_tokens is not None else out_chars // 4 + 1
        )
        return {
            "id": f"chatcmpl-{self.replies_served}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
                "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            },
        }


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [_model_entry(fake.model)]})
            else:
                self._json(404, _error("not found", "invalid_request_error"))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, _error(f"no route {self.path}", "invalid_request_error"))
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._json(400, _error("request body is not JSON", "invalid_request_error"))
                return
            with fake._lock:
                fake.requests.append(body)
                fake.headers.append(dict(self.headers.items()))
            if not self._authorized():
                return
            item = fake._next(body)
            if isinstance(item, Fault):
                with fake._lock:
                    fake.faults_served[item.kind] += 1
                self._fault(item)
                return
            with fake._lock:
                fake.replies_served += 1
                payload = fake._completion(item, body)
            self._json(200, payload)

        def _authorized(self) -> bool:
            if fake.api_key is None:
                return True
            if self.headers.get("authorization") == f"Bearer {fake.api_key}":
                return True
            self._json(401, _error("Incorrect API key provided", "invalid_request_error"))
            return False

        def _fault(self, fault: Fault) -> None:
            kind = fault.kind
            if kind == "hang":
                fake._stop.wait(fake.hang_s)
                self._json(503, _error("hung request released", "server_error"))
            elif kind == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            elif kind == "not_json":
                self._raw(
                    200, b"<html><body>502 upstream hiccup</body></html>{", "application/json"
                )
            else:
                status, message = _STATUS[kind]
                headers = {}
                if kind == "rate_limit":
                    wait = fault.retry_after if fault.retry_after is not None else fake.retry_after
                    headers["retry-after"] = f"{wait:g}"
                etype = "server_error" if status >= 500 else "invalid_request_error"
                self._json(status, _error(message, etype), headers)

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(payload).encode(), "application/json", headers)

        def _raw(
            self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
        ) -> None:
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

    return Handler


def _error(message: str, etype: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": None, "code": None}}


def _model_entry(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": "fake"}
