"""The sandbox's "allowlist" network: the host's loopback services, and nothing else.

A sandbox in a network namespace of its own sees only its own loopback. For the policy
``"allowlist"`` (the loopback names of ``allowed_hosts``: 127.0.0.1, localhost, ::1),
:func:`relay` serves a Unix socket on the host for the length of one call, and the
sandbox runs :data:`FORWARDER` first: it listens inside the namespace on 127.0.0.1 at
every port the host listens on at loopback (read from ``/proc/net/tcp`` when the call
starts), and carries each connection through the Unix socket, whose host side connects
to 127.0.0.1 at that port and to nothing else. No other address exists inside, so code
cannot step around it; the Unix socket is the only way out and it reaches only those
ports. Hosts of the allowlist that are not loopback names are not reachable this way.

For ``"index"`` (python_install), the forwarder listens at 127.0.0.1:3128 inside and the
host side is an HTTP proxy (CONNECT, or plain ``GET http://...``) that connects only to
the package index's hosts (``sandbox_index_hosts`` and the hosts of ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``); pip is pointed at it by ``https_proxy``.
Code that ignores the proxy variables has no other way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tools.settings import ToolSettings

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
SOCKET_IN_SANDBOX = "/tmp/.jm-net/relay.sock"  # /tmp: a tmpfs, so bwrap can make the folder

# Run inside the sandbox by the agent's base interpreter: argv = [sock, items, --, cmd...]
# where items are "LISTEN_PORT:TAG", comma-separated; TAG is the first line sent.
FORWARDER = r"""
import os, socket, subprocess, sys, threading
sock_path, ports, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
def pump(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(listener, tag):
    while True:
        conn, _ = listener.accept()
        try:
            up = socket.socket(socket.AF_UNIX)
            up.connect(sock_path)
            up.sendall(tag.encode() + b"\n")
        except OSError:
            conn.close(); continue
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()
for item in filter(None, ports.split(",")):
    port, tag = item.split(":")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", int(port))); listener.listen(64)
    except OSError:
        continue
    threading.Thread(target=serve, args=(listener, tag), daemon=True).start()
try:
    child = subprocess.Popen(cmd)
except OSError as exc:
    print(f"{cmd[0]}: {exc.strerror}", file=sys.stderr); os._exit(127)
rc = child.wait()
os._exit(rc if rc >= 0 else 128 - rc)
"""


def loopback_ports() -> set[int]:
    """TCP ports the host listens on at 127.0.0.1 or at every address (IPv4 and IPv6)."""
    ports: set[int] = set()
    for table, loop, anyaddr in (
        ("/proc/net/tcp", "0100007F", "00000000"),
        ("/proc/net/tcp6", "00000000000000000000000001000000", "0" * 32),
    ):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and address in (loop, anyaddr):  # 0A: LISTEN
                ports.add(int(port, 16))
    return ports


def allows_loopback(settings: ToolSettings) -> bool:
    """Whether the allowlist names the host's loopback."""
    return bool(LOOPBACK_NAMES & {h.strip().lower() for h in settings.allowed_hosts})


async def _carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


PROXY_PORT = 3128  # inside the sandbox: the index proxy of python_install
PROXY_TAG = "PROXY"


@dataclass(frozen=True)
class Relay:
    """A running relay: its socket's folder on the host, the loopback ports it carries,
    and whether it is also an HTTP proxy (to the package index's hosts only)."""

    folder: Path
    ports: frozenset[int]
    proxy: bool = False

    def items(self) -> str:
        """The forwarder's listening ports and tags."""
        items = [f"{p}:{p}" for p in sorted(self.ports)]
        if self.proxy:
            items.append(f"{PROXY_PORT}:{PROXY_TAG}")
        return ",".join(items)


def index_hosts(settings: ToolSettings) -> frozenset[str]:
    """Hosts python_install may reach: the settings' index hosts and those of the pip
    configuration in the environment (``PIP_INDEX_URL`` and friends)."""
    hosts = {h.lower() for h in settings.sandbox_index_hosts}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        for item in os.environ.get(name, "").split():
            host = urlsplit(item).hostname
            if host:
                hosts.add(host.lower())
    return frozenset(hosts)


@contextlib.asynccontextmanager
async def relay_for(settings: ToolSettings, network: str) -> AsyncIterator[Relay | None]:
    """A relay for one call: for ``"allowlist"`` when the allowlist names the loopback,
    for ``"index"`` (python_install) always; else None (no network, or the host's)."""
    if settings.sandbox == "none" or network not in ("allowlist", "index"):
        yield None
        return
    if network == "index":
        async with relay(frozenset(), index_hosts(settings)) as folder:
            yield Relay(folder, frozenset(), proxy=True)
        return
    if not allows_loopback(settings):
        yield None
        return
    ports = frozenset(loopback_ports())
    async with relay(ports, frozenset()) as folder:
        yield Relay(folder, ports)


async def _proxy_target(
    reader: asyncio.StreamReader, hosts: frozenset[str]
) -> tuple[str, int, bytes | None]:
    """(host, port, request to send on) of an HTTP proxy request; ``None`` for CONNECT.
    Raises ValueError for a host not in ``hosts`` or a malformed request."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    if len(head) > 65536:
        raise ValueError("request head too long")
    first, _, rest = head.partition(b"\r\n")
    method, target, version = first.decode("latin-1").split(" ")
    if method.upper() == "CONNECT":
        host, _, port = target.rpartition(":")
        request = None
    else:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("not a proxy request")
        host, port = parts.hostname, str(parts.port or 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        keep = [
            h
            for h in rest.split(b"\r\n")
            if h and not h.lower().startswith((b"connection:", b"proxy-", b"keep-alive:"))
        ]
        lines = [f"{method} {path} {version}".encode("latin-1"), *keep, b"Connection: close"]
        request = b"\r\n".join(lines) + b"\r\n\r\n"
    host = host.strip("[]").lower()
    if host not in hosts:
        raise ValueError(f"{host} is not a package index host")
    return host, int(port), request


@contextlib.asynccontextmanager
async def relay(ports: frozenset[int], proxy_hosts: frozenset[str]) -> AsyncIterator[Path]:
    """A Unix socket whose connections go, by their first line, to 127.0.0.1:PORT (one of
    ``ports``) or, for ``PROXY``, through an HTTP proxy to ``proxy_hosts`` only; for the
    duration of the block. Yields the socket's folder."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = ""
        try:
            line = (await asyncio.wait_for(reader.readline(), 10)).strip().decode()
            if line == PROXY_TAG and proxy_hosts:
                host, port, request = await _proxy_target(reader, proxy_hosts)
                up_reader, up_writer = await asyncio.open_connection(host, port)
                if request is None:
                    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    up_writer.write(request)
            elif line.isdigit() and int(line) in ports:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(line))
            else:
                raise ValueError(line)
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError):
            with contextlib.suppress(OSError):
                if line == PROXY_TAG:
                    writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            writer.close()
            return
        for pair in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_carry(*pair))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    with tempfile.TemporaryDirectory(prefix="jm-net-") as folder:
        os.chmod(folder, 0o700)
        server = await asyncio.start_unix_server(handle, path=os.path.join(folder, "relay.sock"))
        try:
            yield Path(folder)
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
