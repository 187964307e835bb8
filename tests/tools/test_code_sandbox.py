"""Probes of everything that runs code: shell_run, python_run, python_install, the
written-files summary and the browser's frames, tried as an attacker would.

Every probe makes one call with a provider key in the agent's environment and a secret
next to the workspace, then checks: nothing outside the workspace read or written, the
key nowhere in the output, no process of the call alive in /proc, the call back within
its timeout plus one second. (The file tools' probes are in test_sandbox.py.)
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.tools.test_shell_tool import alive_with
from tools import ToolContext, ToolSettings, default_registry
from tools.confine import probe as sandbox_probe
from tools.python_env import ensure_env

KEY = "sk-probe-" + uuid.uuid4().hex
MARK = "3007.25"  # every long-running probe process has it in its command line
PROJECT = Path(__file__).resolve().parents[2]
REG = default_registry(enabled=("files", "shell", "python"))

# `make test` installs bubblewrap: in CI an unusable sandbox is a failure, not a skip
if os.environ.get("CI") and not sandbox_probe().ok:
    raise RuntimeError(f"the sandbox does not work here: {sandbox_probe().detail}")
pytestmark = pytest.mark.skipif(
    not sandbox_probe().ok, reason="bubblewrap is not usable here (make sandbox)"
)


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.sendall(b"hello from the host\n")
            conn.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.sock.close()


@pytest.fixture(scope="module")
def shared_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-venv") / "venv"


@pytest_asyncio.fixture
async def pctx(
    tmp_path: Path, shared_venv: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ToolContext]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_KEY_PLAIN", KEY)
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("TOP SECRET\n")
    settings = ToolSettings(shell_timeout_s=5, python_env_dir=shared_venv)
    async with ToolContext(ws, settings) as ctx:
        await ensure_env(ctx)  # once per module: creating it is not a probed call
        yield ctx


Setup = Callable[[Path, Path], None]


def _none(ws: Path, out: Path) -> None:
    pass


def _link(target: str) -> Setup:
    def setup(ws: Path, out: Path) -> None:
        (ws / "f").symlink_to(target.replace("OUT", str(out)))

    return setup


def _fifo_outside(ws: Path, out: Path) -> None:
    os.mkfifo(out / "fifo")
    (ws / "f").symlink_to(out / "fifo")


def _hard_link(ws: Path, out: Path) -> None:
    os.link(out / "secret.txt", ws / "hard.txt")


def _name_linked_out(ws: Path, out: Path) -> None:
    (out / "proj").mkdir()
    (out / "proj" / "setup.py").write_text("raise SystemExit('ran outside code')\n")
    (ws / "evilpkg").symlink_to(out / "proj")


@dataclass
class Probe:
    name: str
    tool: str
    args: dict[str, Any]
    setup: Setup = _none
    expect: str = "any"  # "ok", "fail" or "any": the outcome itself
    absent: tuple[str, ...] = ()  # more texts that must not be in the output
    present: tuple[str, ...] = ()  # texts that must be in the output
    settings: dict[str, Any] = field(default_factory=dict)
    escapes: bool = False  # unconfined on purpose: a setsid process outlives the call

    @property
    def timeout(self) -> float:
        return float(self.args.get("timeout_s", 5))


OUT = "OUT"  # replaced by the outside folder's path in commands


def sh(name: str, command: str, **kw: Any) -> Probe:
    return Probe(f"shell: {name}", "shell_run", {"command": command, **kw.pop("args", {})}, **kw)


def py(name: str, code: str, **kw: Any) -> Probe:
    return Probe(f"python: {name}", "python_run", {"code": code, **kw.pop("args", {})}, **kw)


def pip(name: str, *specs: str, **kw: Any) -> Probe:
    return Probe(
        f"install: {name}", "python_install", {"packages": list(specs)}, expect="fail", **kw
    )


PROBES = [
    sh("cat outside (relative)", "cat ../outside/secret.txt"),
    sh("cat outside (absolute)", "cat OUT/secret.txt"),
    sh("write outside", "echo pwned > OUT/new.txt; echo pwned >> OUT/secret.txt"),
    sh("parent's environ", "cat /proc/$PPID/environ | tr '\\0' '\\n'"),
    sh("every environ", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"),
    sh("own environment", "env"),
    sh("home hidden", "cat ~/.jm*; ls -a ~ /root", absent=("home-secret",)),
    sh("project hidden", f"cat {PROJECT}/pyproject.toml", absent=("journeyman",)),
    sh("host /tmp", "echo x > /tmp/jm-probe-tmp.txt; cat /tmp/jm-probe-tmp.txt"),
    sh("system read-only", "echo x > /etc/jm-probe.txt", expect="fail"),
    sh("shadow hidden", "cat /etc/shadow", absent=("root:",)),
    sh("setsid survivor", f"setsid sleep {MARK} & echo started", expect="ok"),
    sh("nohup disown", f"nohup sleep {MARK} >/dev/null 2>&1 & disown; echo ok", expect="ok"),
    sh(
        "setsid -f holds the pipes",
        f"setsid -f sleep {MARK}; sleep {MARK}",
        args={"timeout_s": 2},
        expect="fail",
    ),
    sh("double fork", f"( ( sleep {MARK} & ) & ); echo ok", expect="ok"),
    sh(
        "process bomb",
        "n=0; for i in $(seq 200); do (sleep 3; true) & n=$((n+1)); done 2>/dev/null; echo $n",
        settings={"sandbox_max_processes": 64},
        args={"timeout_s": 8},
    ),
    sh("network refused", "exec 3<>/dev/tcp/127.0.0.1/PORT && cat <&3", expect="fail"),
    sh(
        "big file limit",
        "head -c 3000000 /dev/zero > big.bin",
        settings={"sandbox_max_file_bytes": 1 << 20},
        expect="fail",
    ),
    sh("summary: link to outside", "ln -s ../outside/secret.txt f; echo x >> g", expect="ok"),
    sh("summary: link to a FIFO", "true", setup=_fifo_outside, expect="ok"),
    sh("summary: link to stdin", "ln -sf /dev/stdin f", expect="ok"),
    sh("summary: link to /dev/zero", "ln -sf /dev/zero f", expect="ok"),
    sh("summary: hard link touched", "touch hard.txt", setup=_hard_link, expect="ok"),
    sh("summary: made a FIFO", "mkfifo p", expect="ok"),
    sh(
        "unconfined: summary link to outside",
        "ln -s ../outside/secret.txt f",
        settings={"sandbox": "none"},
        expect="ok",
    ),
    sh(
        "unconfined: summary link to stdin",
        "ln -s /dev/stdin f",
        settings={"sandbox": "none"},
        expect="ok",
    ),
    sh(
        "unconfined: setsid -f returns in time",
        f"setsid -f sleep {MARK} >/dev/null 2>&1; setsid -f sleep {MARK}; sleep {MARK}",
        settings={"sandbox": "none"},
        args={"timeout_s": 2},
        expect="fail",
        escapes=True,
    ),
    py("read outside", "print(open('OUT/secret.txt').read())", expect="fail"),
    py("write outside", "open('OUT/new.txt', 'w').write('pwned')", expect="fail"),
    py("parent's environ", "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())"),
    py(
        "all environs",
        "import glob\nfor p in glob.glob('/proc/[0-9]*/environ'):\n"
        "    try: print(open(p).read())\n    except OSError: pass",
    ),
    py("os.environ", "import os\nprint(dict(os.environ))", expect="ok"),
    py(
        "new-session child",
        f"import subprocess\nsubprocess.Popen(['sleep', '{MARK}'], start_new_session=True)",
        expect="ok",
    ),
    py(
        "daemonised fork",
        f"import os\nif os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '{MARK}'])",
        expect="ok",
    ),
    py(
        "fork bomb",
        "import os\nn = 0\ntry:\n    for _ in range(2000):\n        if os.fork() == 0:\n"
        "            import time; time.sleep(3); os._exit(0)\n        n += 1\n"
        "except OSError as e:\n    print('stopped at', n, e)\n",
        settings={"sandbox_max_processes": 64},
        args={"timeout_s": 8},
        present=("stopped at",) if sandbox_probe().process_limit else (),
    ),
    py(
        "network refused",
        "import socket\nsocket.create_connection(('127.0.0.1', PORT), timeout=2)",
        expect="fail",
    ),
    py(
        "home listing",
        "import os\nprint(os.listdir(os.path.expanduser('~')))",
        absent=("home-secret",),
    ),
    py(
        "no inherited descriptors",
        "import os\nprint('fds', sorted(os.listdir('/proc/self/fd')))",
        present=("fds ['0', '1', '2', '3']",),
    ),
    py("init's environ", "import os\nprint(open('/proc/1/environ').read())"),
    py("sleep past timeout", f"import time\ntime.sleep({MARK})", args={"timeout_s": 1.5}),
    pip("file URL outside", "file://OUT/pkg-0.1-py3-none-any.whl#sha256=00"),
    pip("file URL outside, no fragment", "file://OUT/pkg-0.1-py3-none-any.whl"),
    pip("direct reference outside", "pkg @ file://OUT/pkg-0.1-py3-none-any.whl"),
    pip("https URL", "https://example.com/pkg-0.1-py3-none-any.whl"),
    pip("VCS URL", "git+https://example.com/pkg.git"),
    pip("direct reference https", "pkg @ https://example.com/pkg.tar.gz"),
    pip("relative wheel outside", "../outside/pkg-0.1-py3-none-any.whl"),
    pip("absolute folder outside", "OUT"),
    pip("requirements file", "-r", "OUT/req.txt"),
    pip("index option", "--index-url=https://example.com/simple", "six"),
    pip("name linked out of the workspace", "evilpkg", setup=_name_linked_out),
    pip("tilde path", "~/pkg.whl"),
    pip("not a requirement", "six;;;=="),
]


@pytest.fixture(scope="module", autouse=True)
def home_secret() -> Iterator[None]:
    path = Path.home() / f".jm-probe-home-secret-{os.getpid()}"
    path.write_text(KEY)
    yield
    path.unlink()


def _fill(value: Any, out: Path, port: int) -> Any:
    if isinstance(value, str):
        return value.replace("OUT", str(out)).replace("PORT", str(port))
    if isinstance(value, list):
        return [_fill(v, out, port) for v in value]
    return value


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
async def test_code_probe(probe: Probe, pctx: ToolContext, listener: Listener) -> None:
    ws = pctx.workspace
    out = ws.parent / "outside"
    probe.setup(ws, out)
    before_out = sorted(os.listdir(out))
    for key, value in probe.settings.items():
        setattr(pctx.settings, key, value)
    accepted = listener.accepted
    args = {k: _fill(v, out, listener.port) for k, v in probe.args.items()}
    started = time.monotonic()
    res = await REG.call(probe.tool, args, pctx)
    took = time.monotonic() - started
    assert took < probe.timeout + 1, f"{probe.name}: back after {took:.1f} s"
    text = res.output + (res.error or "")
    assert KEY not in text and "TOP SECRET" not in text, text[:500]
    for absent in probe.absent:
        assert absent not in text, text[:500]
    for present in probe.present:
        assert present in text, text[:500]
    if probe.expect == "ok":
        assert res.ok, text[:500]
    elif probe.expect == "fail":
        assert res.error, text[:500]
    assert (out / "secret.txt").read_text() == "TOP SECRET\n"
    assert sorted(os.listdir(out)) == before_out
    assert not os.path.lexists("/tmp/jm-probe-tmp.txt")  # noqa: ASYNC240
    assert not os.path.lexists("/etc/jm-probe.txt")  # noqa: ASYNC240
    assert listener.accepted == accepted, "the sandbox reached the host's network"
    if not probe.escapes:
        assert not alive_with(MARK), f"{probe.name}: processes left running"
    assert "ran outside code" not in text


def test_probe_count() -> None:
    from tests.tools.test_sandbox import PROBES as FILE_PROBES

    assert len(PROBES) + len(FILE_PROBES) + len(BROWSER_PROBES) >= 60


LIMITED = pytest.mark.skipif(
    not sandbox_probe().process_limit,
    reason="no pids cgroup can be made here and root is exempt from RLIMIT_NPROC",
)


@LIMITED
async def test_process_bomb_is_stopped_by_the_limit(pctx: ToolContext) -> None:
    pctx.settings.sandbox_max_processes = 64
    code = (
        "import os, time\nn = 0\ntry:\n    while n < 5000:\n        if os.fork() == 0:\n"
        "            time.sleep(2); os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nprint(n)"
    )
    res = await REG.call("python_run", {"code": code, "timeout_s": 10}, pctx)
    assert res.ok, res.output
    started = int(res.output.split("\n")[2])
    assert 0 < started < 64


async def test_network_allowed_where_the_policy_says(pctx: ToolContext, listener: Listener) -> None:
    pctx.settings.sandbox_network = "host"
    accepted = listener.accepted
    res = await REG.call(
        "shell_run", {"command": f"exec 3<>/dev/tcp/127.0.0.1/{listener.port}; cat <&3"}, pctx
    )
    assert res.ok and "hello from the host" in res.output, res.output
    code = (
        f"import socket\nprint(socket.create_connection(('127.0.0.1', {listener.port})).recv(99))"
    )
    res = await REG.call("python_run", {"code": code}, pctx)
    assert res.ok and "hello from the host" in res.output, res.output
    assert listener.accepted == accepted + 2


async def test_allowlist_reaches_only_the_hosts_loopback_services(
    pctx: ToolContext, listener: Listener
) -> None:
    """ "allowlist": the host's 127.0.0.1 services pass (shell and Python), nothing else does;
    without a loopback name in allowed_hosts, nothing passes."""
    pctx.settings.sandbox_network = "allowlist"
    accepted = listener.accepted
    shell = f"exec 3<>/dev/tcp/127.0.0.1/{listener.port}; cat <&3"
    res = await REG.call("shell_run", {"command": shell}, pctx)
    assert res.ok and "hello from the host" in res.output, res.output
    code = (
        f"import socket\nprint(socket.create_connection(('localhost', {listener.port})).recv(99))"
    )
    res = await REG.call("python_run", {"code": code}, pctx)
    assert res.ok and "hello from the host" in res.output, res.output
    assert listener.accepted == accepted + 2
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # a port nobody listens on, and an address outside
    for target in (f"127.0.0.1/{port}", "10.255.255.1/80", "1.1.1.1/443"):
        res = await REG.call("shell_run", {"command": f"exec 3<>/dev/tcp/{target}"}, pctx)
        assert res.error, (target, res.output)
    pctx.settings.allowed_hosts = ["*.example.com"]
    res = await REG.call("shell_run", {"command": shell}, pctx)
    assert res.error and listener.accepted == accepted + 2


async def test_install_reaches_the_index_and_python_run_does_not(
    pctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python_install gets the network (a package index on 127.0.0.1 serves a wheel);
    python_run, by default, does not reach the same server."""
    import http.server

    from tests.tools.test_python_env import _build_wheel

    index = tmp_path / "index"
    index.mkdir()
    wheel = _build_wheel(index, "jm_probe_idx")
    (index / "simple" / "jm-probe-idx").mkdir(parents=True)
    (index / "simple" / "jm-probe-idx" / "index.html").write_text(
        f'<a href="/{wheel.name}">{wheel.name}</a>'
    )
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(index))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        monkeypatch.setenv("PIP_INDEX_URL", f"{url}/simple")
        res = await REG.call("python_install", {"packages": ["jm-probe-idx"]}, pctx)
        assert res.ok, res.output
        code = f"import urllib.request\nurllib.request.urlopen('{url}/simple', timeout=2)"
        res = await REG.call("python_run", {"code": code}, pctx)
        assert res.error and ("refused" in res.output or "unreachable" in res.output)
    finally:
        server.shutdown()


async def test_index_proxy_connects_to_index_hosts_only(listener: Listener) -> None:
    """python_install's way out: the relay's proxy answers 403 for any host but the
    index's, and carries a CONNECT to an index host."""
    from tools.netrelay import PROXY_TAG, relay

    async def ask(hosts: frozenset[str], request: bytes) -> bytes:
        async with relay(frozenset(), hosts) as folder:
            reader, writer = await asyncio.open_unix_connection(str(folder / "relay.sock"))
            writer.write(PROXY_TAG.encode() + b"\n" + request)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(200), 5)
            if b" 200 " in answer:
                answer += await asyncio.wait_for(reader.read(200), 5)
            writer.close()
            return answer

    accepted = listener.accepted
    connect = f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode()
    assert b"403" in await ask(frozenset({"pypi.org"}), connect)
    get = f"GET http://127.0.0.1:{listener.port}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert b"403" in await ask(frozenset({"pypi.org"}), get)
    assert listener.accepted == accepted
    answer = await ask(frozenset({"127.0.0.1"}), connect)
    assert b" 200 " in answer and b"hello from the host" in answer
    assert listener.accepted == accepted + 1


async def test_unusable_sandbox_refuses_with_the_fix(
    pctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    status = sandbox_probe(pctx.settings)
    assert not status.ok and status.fix and "bubblewrap" in status.fix
    res = await REG.call("shell_run", {"command": "true"}, pctx)
    assert res.error and "\n" not in res.error and "apt-get install bubblewrap" in res.error
    assert 'tools.sandbox = "none"' in res.error
    pctx.settings.sandbox = "none"
    assert sandbox_probe(pctx.settings).mode == "none"


# -- the browser: frames it may not read are skipped, in time ------------------------

BROWSER_PROBES = [
    "data:text/html,<iframe src='file:///etc/passwd'></iframe><p>visible</p>",
    "data:text/html,<iframe src='file:///proc/self/environ'></iframe><p>visible</p>",
    "data:text/html,<iframe src='view-source:file:///etc/passwd'></iframe><p>visible</p>",
    "data:text/html,<iframe src='chrome://version'></iframe><p>visible</p>",
    "data:text/html,<iframe src='javascript:1'></iframe><p>visible</p>",
]
BROWSER_REFUSED = ["file:///etc/passwd", "view-source:file:///etc/passwd", "chrome://version"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bctx(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolContext]:
    settings = ToolSettings(allowed_hosts=["127.0.0.1"], browser_timeout_s=5)
    async with ToolContext(tmp_path_factory.mktemp("browser-probe-ws"), settings) as ctx:
        yield ctx


@pytest.mark.parametrize("url", BROWSER_PROBES + BROWSER_REFUSED)
@pytest.mark.asyncio(loop_scope="module")
async def test_browser_probe(url: str, bctx: ToolContext) -> None:
    registry = default_registry(enabled=("browser",))
    started = time.monotonic()
    res = await registry.call("browser_goto", {"url": url}, bctx)
    assert time.monotonic() - started < bctx.settings.browser_timeout_s + 1
    assert "root:x:0" not in res.output and KEY not in res.output
    if url in BROWSER_REFUSED:
        assert res.error, res.output[:300]
    else:
        assert "visible" in res.output, res.output[:500]


def test_nothing_left_running_at_the_end() -> None:
    assert not alive_with(MARK)


@pytest.fixture(autouse=True)
def _no_leftovers_between() -> Iterator[None]:
    yield
    # a probe's processes must be gone when its call returned (checked there); this only
    # keeps one failure from spilling into the next probe
    for pid in alive_with(MARK):
        os.kill(pid, 9)
