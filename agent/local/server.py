"""Run an OpenAI-compatible server for a local GGUF model, and never leave it behind.

The server (llama.cpp's through ``llama-cpp-python[server]`` on the CPU, vLLM on a GPU) runs
in its own process group, so stopping it kills everything it started, and with
``PR_SET_PDEATHSIG`` so the kernel kills it if the process that started it dies first
(even by SIGKILL). Start it from the thread that will live as long as it should: Linux
delivers the death signal when the *thread* that forked the child exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.local.errors import ServerCrashed, ServerError

_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ServerConfig:
    """How to serve one model file."""

    model_path: Path
    alias: str  # the model id clients send
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    n_ctx: int = 8192
    threads: int | None = None
    gpu: bool = False
    tokenizer: str = ""  # vLLM only
    prompt_cache_mb: int = 0  # llama.cpp only, 0: off (see agent.local.serve)
    extra_args: tuple[str, ...] = field(default=())
    # Replaces the llama.cpp command (e.g. a llama-server binary of your own); each item is
    # formatted with {model}, {alias}, {host}, {port}, {n_ctx}, {threads}, {python}.
    command: tuple[str, ...] = field(default=())


def llama_cpp_command(cfg: ServerConfig, port: int) -> list[str]:
    """The llama.cpp server command line (llama-cpp-python 0.3.x flags)."""
    threads = cfg.threads or os.cpu_count() or 1
    # Not `--cache true`: llama-cpp-python's RAM prompt cache grew the 1.5B server to 22 GiB
    # RSS within ~20 agent calls here and the kernel OOM-killed it mid-run. agent.local.serve
    # installs one that counts what it keeps; without a cache the server starts as it is,
    # without importing this package first.
    if cfg.prompt_cache_mb > 0:
        entry = ["agent.local.serve", "--prompt_cache_mb", str(cfg.prompt_cache_mb)]
    else:
        entry = ["llama_cpp.server"]
    return [
        sys.executable,
        "-m",
        *entry,
        "--model",
        str(cfg.model_path),
        "--model_alias",
        cfg.alias,
        "--host",
        cfg.host,
        "--port",
        str(port),
        "--n_ctx",
        str(cfg.n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        *cfg.extra_args,
    ]


def custom_command(cfg: ServerConfig, port: int) -> list[str]:
    """The configured server command, with its placeholders filled in."""
    values = {
        "model": str(cfg.model_path),
        "alias": cfg.alias,
        "host": cfg.host,
        "port": str(port),
        "n_ctx": str(cfg.n_ctx),
        "threads": str(cfg.threads or os.cpu_count() or 1),
        "python": sys.executable,
    }
    try:
        return [part.format(**values) for part in cfg.command]
    except (KeyError, IndexError, ValueError) as exc:
        raise ServerError(
            f"local.server_command has an unknown placeholder ({exc}); "
            f"use {', '.join('{' + k + '}' for k in values)}"
        ) from None


def crash_message(returncode: int | None, *, when: str) -> str | None:
    """One line for a server killed by a signal (None when it was not)."""
    if returncode is None or returncode >= 0:
        return None
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if name in ("SIGILL", "SIGSEGV", "SIGBUS", "SIGFPE"):
        cause = (
            "its llama.cpp build likely uses CPU instructions this machine lacks or refuses "
            "(a build for another CPU)"
        )
        fix = "rebuild it portably: journeyman model build --force (then journeyman doctor)"
    else:
        cause = "something stopped it (the kernel's OOM killer, or a person)"
        fix = "see dmesg, free memory, and start it again"
    return f"the local model server died with {name} {when}: {cause}; {fix}"


def vllm_command(cfg: ServerConfig, port: int) -> list[str]:
    """The vLLM OpenAI server command line for a GGUF file."""
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(cfg.model_path),
        "--served-model-name",
        cfg.alias,
        "--host",
        cfg.host,
        "--port",
        str(port),
        "--max-model-len",
        str(cfg.n_ctx),
    ]
    if cfg.tokenizer:
        cmd += ["--tokenizer", cfg.tokenizer]
    return [*cmd, *cfg.extra_args]


def check_backend(gpu: bool) -> None:
    """A clear error when the server package is not installed."""
    if gpu:
        if importlib.util.find_spec("vllm") is None:
            raise ServerError(
                "--gpu needs vLLM, which is not installed (pip install vllm, on a machine "
                "with a CUDA GPU); without --gpu the model runs on the CPU with llama.cpp"
            )
    elif importlib.util.find_spec("llama_cpp") is None:
        raise ServerError(
            "the local model server needs llama.cpp: journeyman model build "
            "(compiles it for any x86-64 CPU with AVX2, a few minutes)"
        )


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ModelServer:
    """One running server process; use as a context manager or call start/stop."""

    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self.port = cfg.port
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (ends in ``/v1``)."""
        return f"http://{self.cfg.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """The server's process id (also its process group id)."""
        return self.process.pid if self.process else None

    def start(self, *, timeout_s: float = 180.0) -> str:
        """Start the server and wait until it answers; returns the base URL."""
        self.spawn()
        try:
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def spawn(self) -> None:
        """Start the server process without waiting for it (see :meth:`wait_ready`)."""
        if not self.cfg.command:
            check_backend(self.cfg.gpu)
        if not self.cfg.model_path.is_file():
            raise ServerError(f"model file {self.cfg.model_path} does not exist; pull it first")
        if self.port == 0:
            self.port = free_port(self.cfg.host)
        elif port_in_use(self.cfg.host, self.port):
            raise ServerError(
                f"port {self.port} on {self.cfg.host} is already in use; "
                "choose another with --port (or stop what is listening there)"
            )
        if self.cfg.command:
            make = custom_command
        else:
            make = vllm_command if self.cfg.gpu else llama_cpp_command
        fd, log_name = tempfile.mkstemp(prefix=f"journeyman-server-{self.port}-", suffix=".log")
        self._log_path = Path(log_name)
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(
                make(self.cfg, self.port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches all of it
                preexec_fn=_die_with_parent,
            )

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        """Wait until the server *computes*: ``GET /v1/models``, then a one-token completion.

        Listing models proves only that the HTTP layer is up; a build for another CPU
        answers it and dies on the first completion. A death by a signal is reported as
        :class:`ServerCrashed`, in one line with the likely cause and the fix.
        """
        import httpx

        deadline = time.monotonic() + timeout_s
        url = f"{self.base_url}/models"
        listed = False
        while time.monotonic() < deadline:
            self._raise_if_exited("before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                if not listed:
                    listed = httpx.get(url, timeout=2.0).status_code == 200
                if listed and self._one_token(httpx, deadline):
                    return
            time.sleep(0.2)
        self._raise_if_exited("before it was ready")
        raise ServerError(
            f"the model server did not answer a one-token completion on {self.base_url} "
            f"within {timeout_s:.0f} s:\n{self.log_tail()}"
        )

    def _one_token(self, httpx: Any, deadline: float) -> bool:
        body = {
            "model": self.cfg.alias,
            "messages": [{"role": "user", "content": "Say OK."}],
            "max_tokens": 1,
            "temperature": 0,
        }
        timeout = max(1.0, deadline - time.monotonic())
        resp = httpx.post(f"{self.base_url}/chat/completions", json=body, timeout=timeout)
        if resp.status_code != 200:
            return False
        try:
            return bool(resp.json()["choices"])
        except (ValueError, KeyError, TypeError):
            return False

    def _raise_if_exited(self, when: str) -> None:
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return
        crashed = crash_message(code, when=when)
        if crashed:
            raise ServerCrashed(crashed)
        raise ServerError(f"the model server exited with code {code} {when}:\n{self.log_tail()}")

    def crash_error(self, when: str = "while serving") -> ServerCrashed | None:
        """The error to report when the server died by a signal, else None."""
        if self.process is None:
            return None
        message = crash_message(self.process.poll(), when=when)
        return ServerCrashed(message) if message else None

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the server wrote (for error messages)."""
        if not self._log_path or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``grace_s``. Idempotent."""
        proc = self.process
        if proc is None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        # anything the server forked that outlived it (same group) goes too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self.process = None
        if self._log_path:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def __enter__(self) -> ModelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit(143) so ``finally`` blocks run (main thread only)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield  # someone else handles SIGTERM; leave it to them
        return

    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
