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
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tools.settings import ToolSettings

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
SOCKET_IN_SANDBOX = "/tmp/.jm-net/relay.sock"  # /tmp: a tmpfs, so bwrap can make the folder

# Run inside the sandbox by the agent's base interpreter: argv = [sock, ports, --, cmd...]
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
def serve(listener, port):
    while True:
        conn, _ = listener.accept()
        try:
            up = socket.socket(socket.AF_UNIX)
            up.connect(sock_path)
            up.sendall(b"%d\n" % port)
        except OSError:
            conn.close(); continue
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()
for port in filter(None, ports.split(",")):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", int(port))); listener.listen(64)
    except OSError:
        continue
    threading.Thread(target=serve, args=(listener, int(port)), daemon=True).start()
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


@dataclass(frozen=True)
class Relay:
    """A running relay: its socket's folder on the host and the ports it carries."""

    folder: Path
    ports: frozenset[int]


@contextlib.asynccontextmanager
async def relay_for(settings: ToolSettings, network: str) -> AsyncIterator[Relay | None]:
    """A relay for one call when ``network`` is ``"allowlist"`` and the allowlist names
    the loopback, else None (then the sandbox has no network at all)."""
    if settings.sandbox == "none" or network != "allowlist" or not allows_loopback(settings):
        yield None
        return
    ports = frozenset(loopback_ports())
    async with relay(ports) as folder:
        yield Relay(folder, ports)


@contextlib.asynccontextmanager
async def relay(ports: frozenset[int]) -> AsyncIterator[Path]:
    """A Unix socket whose connections (``PORT\\n`` first) go to 127.0.0.1:PORT for the
    ``ports`` given, for the duration of the block; yields the socket's folder."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            port = int(line.strip() or b"0")
            if port not in ports:
                raise ValueError(port)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except (OSError, ValueError, TimeoutError):
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
