"""MCP servers as tools: connect to the servers of ``[[tools.mcp]]`` and call their tools.

Each server's tools become :class:`~tools.registry.Tool` objects (group ``mcp``) named
``<prefix><tool>``, with the server's own JSON schema as their parameters (validated with
``jsonschema`` before a call leaves the process). They run through the registry like any
other tool: validation, output budget, journal and approval happen there and in ``act``.

A :class:`McpHub` holds one :class:`McpConnection` per server. A connection lives in a
task of its own (the SDK's transports are anyio context managers that must be entered and
left in one task), so tool calls from the agent's nodes only send requests to it. A
server that cannot start is reported as one line and left out; a server that dies during a
run turns each later call of its tools into an observation that says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from tools.errors import ToolError
from tools.registry import Tool
from tools.result import ToolResult
from tools.settings import McpServerSettings

if TYPE_CHECKING:
    from tools.context import ToolContext

log = logging.getLogger(__name__)

_NAME = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 64  # OpenAI's limit on a function name


class McpUnavailable(ToolError):
    """An MCP server could not be reached (not started, or gone); the message says which."""


class McpArguments(BaseModel):
    """Arguments of an MCP tool: any JSON object the server's schema accepts.

    Each MCP tool gets a subclass carrying the server's schema; validation runs
    ``jsonschema`` so the model reads the same kind of error as for a built-in tool.
    """

    model_config = ConfigDict(extra="allow")
    mcp_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    mcp_validator: ClassVar[Any] = None

    @model_validator(mode="before")
    @classmethod
    def _check(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("arguments must be a JSON object")
        if cls.mcp_validator is not None:
            errors = sorted(cls.mcp_validator.iter_errors(data), key=lambda e: list(e.path))
            if errors:
                raise ValueError("; ".join(_schema_error(e) for e in errors[:3]))
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The server's schema (what the model is shown), not pydantic's."""
        return json.loads(json.dumps(cls.mcp_schema))


def _schema_error(err: Any) -> str:
    where = ".".join(str(p) for p in err.path)
    return f"{where}: {err.message}" if where else err.message


def args_model(name: str, schema: dict[str, Any] | None) -> type[McpArguments]:
    """A pydantic model class whose schema and validation are the server's JSON schema."""
    import jsonschema

    shown = {k: v for k, v in (schema or {"type": "object"}).items() if k != "$schema"}
    shown.setdefault("type", "object")
    shown.setdefault("properties", {})
    try:
        cls = jsonschema.validators.validator_for(schema or {})
        cls.check_schema(schema or {})
        validator = cls(schema or {})
    except jsonschema.SchemaError:  # a server's broken schema: let the server judge
        validator = None
    model: type[McpArguments] = type(f"{name}_arguments", (McpArguments,), {"__module__": __name__})
    model.mcp_schema = shown
    model.mcp_validator = validator
    return model


def tool_name(prefix: str, name: str) -> str:
    """The registry name of a server's tool: prefixed, safe characters, at most 64."""
    return (prefix + _NAME.sub("_", name))[:MAX_NAME]


def result_text(result: Any) -> tuple[str, bool]:
    """The text of an MCP ``CallToolResult`` and whether the server flagged an error."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = block.resource
            parts.append(getattr(res, "text", None) or f"[resource {res.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {block.uri}]")
        else:  # image, audio: the model cannot read the bytes here
            parts.append(f"[{kind} {getattr(block, 'mime_type', '')}]".replace(" ]", "]"))
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, indent=1))
    return "\n".join(parts), bool(getattr(result, "is_error", False))


def _expand(value: str, workspace: Path) -> str:
    return value.replace("{workspace}", str(workspace))


def _describe(exc: BaseException) -> str:
    """One line for what went wrong, looking inside exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpConnection:
    """One running MCP server: its client session, its tools, and whether it still lives."""

    def __init__(self, config: McpServerSettings, *, workspace: Path) -> None:
        self.config = config
        self.workspace = workspace
        self.tools: list[Any] = []  # mcp.types.Tool, as listed by the server
        self.error: str | None = None
        self._client: Any = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")

    @property
    def name(self) -> str:
        """The configured server name."""
        return self.config.name

    @property
    def alive(self) -> bool:
        """Whether calls can be sent now."""
        return self._client is not None and self.error is None

    def _transport(self) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        if self.config.url:
            return self.config.url
        cwd = _expand(self.config.cwd, self.workspace) if self.config.cwd else self.workspace
        params = StdioServerParameters(
            command=_expand(self.config.command or "", self.workspace),
            args=[_expand(a, self.workspace) for a in self.config.args],
            env={k: _expand(v, self.workspace) for k, v in self.config.env.items()} or None,
            cwd=cwd,
        )
        return stdio_client(params, errlog=self._errlog)

    async def start(self) -> None:
        """Start the server and list its tools; McpUnavailable (one line) if that fails."""
        try:
            import mcp  # noqa: F401
        except ImportError:
            raise McpUnavailable(
                "the MCP SDK is not installed: pip install 'journeyman[mcp]'"
            ) from None
        self._task = asyncio.create_task(self._serve(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.config.start_timeout_s)
        except TimeoutError:
            self.error = f"no answer within {self.config.start_timeout_s:g}s"
        if self.error is not None:
            reason = self.error + self._stderr_tail()
            await self.aclose()
            raise McpUnavailable(reason)

    async def _serve(self) -> None:
        from mcp import Client

        try:
            async with Client(
                self._transport(), read_timeout_seconds=self.config.call_timeout_s
            ) as client:
                tools: list[Any] = []
                cursor = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self.tools = tools
                self._client = client
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            self.error = self.error or "stopped"
            raise
        except Exception as exc:  # the server's end, whatever its cause
            self.error = self.error or _describe(exc)
        finally:
            self._client = None
            if self.error is None and not self._stop.is_set():
                self.error = "the connection closed"
            self._ready.set()

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._errlog.seek(0)
            lines = [ln.strip() for ln in self._errlog.read().splitlines() if ln.strip()]
            if lines:
                return f" (its stderr: {lines[-1][:200]})"
        return ""

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Call one of the server's tools; a dead server is an error the model can read."""
        client = self._client
        if client is None or self.error is not None:
            raise McpUnavailable(self._gone())
        try:
            result = await client.call_tool(tool, arguments)
        except Exception as exc:
            await asyncio.sleep(0)  # let the connection task notice a closed pipe first
            if not self.alive or _closed(exc):
                self.error = self.error or _describe(exc)
                raise McpUnavailable(self._gone()) from exc
            raise ToolError(f"MCP server {self.name!r}, tool {tool}: {_describe(exc)}") from exc
        text, is_error = result_text(result)
        if is_error:
            return ToolResult.fail(f"{tool} reported an error", output=text)
        return ToolResult(output=text or "(no output)")

    def _gone(self) -> str:
        return (
            f"MCP server {self.name!r} is not running ({self.error or 'not started'}); "
            "its tools are unavailable for the rest of this run"
        )

    async def aclose(self) -> None:
        """Stop the server (the SDK closes its stdin, then terminates its process group)."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), 10.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            except Exception:  # already recorded in self.error
                pass
        with contextlib.suppress(OSError):
            self._errlog.close()


def _closed(exc: BaseException) -> bool:
    """Whether an exception means the transport is gone (not a tool's own failure)."""
    import anyio

    if isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | EOFError):
        return True
    text = str(exc).lower()
    return "connection closed" in text or ("closed" in text and "stream" in text)


class McpHub:
    """The MCP servers of one tool context, and their tools as registry entries."""

    def __init__(self, connections: Iterable[McpConnection] = ()) -> None:
        self.connections = {c.name: c for c in connections}
        self.warnings: list[str] = []

    @classmethod
    async def start(cls, configs: Iterable[McpServerSettings], *, workspace: Path) -> McpHub:
        """Start every configured server at once; those that fail are left out with a warning."""
        hub = cls()
        pending = [McpConnection(c, workspace=workspace) for c in configs]
        outcomes = await asyncio.gather(*(c.start() for c in pending), return_exceptions=True)
        for conn, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                hub.warnings.append(
                    f"MCP server {conn.name!r} failed to start: {outcome}; "
                    "the run goes on without its tools"
                )
                log.warning(hub.warnings[-1])
            else:
                hub.connections[conn.name] = conn
        return hub

    def tools(self, taken: Iterable[str] = ()) -> list[Tool]:
        """Registry entries for the tools of the running servers (names already taken skipped)."""
        seen = set(taken)
        out: list[Tool] = []
        for conn in self.connections.values():
            wanted = conn.config.tools
            for spec in conn.tools:
                if wanted is not None and spec.name not in wanted:
                    continue
                name = tool_name(conn.config.tool_prefix, spec.name)
                if name in seen:
                    line = (
                        f"MCP server {conn.name!r}: tool {spec.name!r} left out, the name "
                        f"{name!r} is taken (set a prefix)"
                    )
                    if line not in self.warnings:
                        self.warnings.append(line)
                        log.warning(line)
                    continue
                seen.add(name)
                out.append(_mcp_tool(conn, spec, name))
        return out

    def approval_names(self, tools: Iterable[Tool]) -> list[str]:
        """The MCP tools that need a person's approval (all but those configured read-only)."""
        return [t.name for t in tools if t.group == "mcp" and not t.read_only]

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Call ``tool`` on ``server``."""
        conn = self.connections.get(server)
        if conn is None:
            raise McpUnavailable(f"MCP server {server!r} is not connected in this run")
        return await conn.call(tool, arguments)

    async def aclose(self) -> None:
        """Stop every server."""
        await asyncio.gather(*(c.aclose() for c in self.connections.values()))
        self.connections.clear()


def _mcp_tool(conn: McpConnection, spec: Any, name: str) -> Tool:
    server, remote = conn.name, spec.name
    description = (spec.description or spec.title or remote).strip()
    description = f"{description}\n(MCP server {server!r}, tool {remote!r})"

    async def call(ctx: ToolContext, args: BaseModel) -> ToolResult:
        hub = getattr(ctx, "mcp", None)
        if hub is None:
            raise McpUnavailable(f"MCP server {server!r} is not connected in this run")
        arguments = args.model_dump(exclude_unset=True)
        result: ToolResult = await hub.call(server, remote, arguments)
        return result

    return Tool(
        name=name,
        fn=call,
        args_model=args_model(name, spec.input_schema),
        description=description,
        group="mcp",
        read_only=conn.config.is_read_only(remote),
    )
