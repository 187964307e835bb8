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

from agent.local.errors import ServerError

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
    extra_args: tuple[str, ...] = field(default=())


def llama_cpp_command(cfg: ServerConfig, port: int) -> list[str]:
    """The llama.cpp server command line (llama-cpp-python 0.3.x flags)."""
    threads = cfg.threads or os.cpu_count() or 1
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
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
        # No `--cache true`: llama-cpp-python's RAM prompt cache grew the 1.5B server to 22 GiB
        # RSS within ~20 agent calls here and the kernel OOM-killed it mid-run. Without it the
        # server still reuses the prefix it shares with the previous prompt.
        *cfg.extra_args,
    ]


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
            "the local model server needs llama-cpp-python: "
            "pip install 'journeyman[local]' (it compiles llama.cpp, a few minutes)"
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
        """Poll ``GET /v1/models`` until it answers 200; a clear error if the server dies."""
        import httpx

        deadline = time.monotonic() + timeout_s
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise ServerError(
                    f"the model server exited with code {self.process.returncode} "
                    f"before it was ready:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise ServerError(
            f"the model server did not answer on {url} within {timeout_s:.0f} s:\n{self.log_tail()}"
        )

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
