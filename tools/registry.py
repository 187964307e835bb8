"""The tool registry: JSON schemas for the model, validation, budgets, error capture.

A tool is a plain async function ``async def f(ctx: ToolContext, args: SomeArgs) ->
ToolResult`` whose single pydantic argument model is the documentation the model reads
(the function's docstring is the tool's description, each ``Field(description=...)`` a
parameter's). :func:`tool` wraps such a function into a :class:`Tool`; a
:class:`ToolRegistry` is filled explicitly (see :func:`tools.catalogue.default_registry`), never at import.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ValidationError

from tools.errors import ToolError, ToolNotFound, ToolSetupError
from tools.result import ToolResult

if TYPE_CHECKING:
    from tools.context import ToolContext

log = logging.getLogger(__name__)

Group = Literal["browser", "files", "shell", "python", "memory", "mail", "mcp"]
GROUPS: tuple[Group, ...] = ("files", "python", "shell", "browser", "memory", "mail")
ToolFn = Callable[["ToolContext", Any], Awaitable[ToolResult]]


TIPS_HEADER = "Tips from experience:"  # starts the tips appended to a description


@dataclass(frozen=True)
class Tool:
    """One tool: its function, argument model and what the model is told about it."""

    name: str
    fn: ToolFn
    args_model: type[BaseModel]
    description: str
    group: Group
    read_only: bool

    async def __call__(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """Run the tool with already validated arguments (no budget, no error capture)."""
        return await self.fn(ctx, args)

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments, without pydantic's titles (a fresh copy)."""
        return json.loads(_schema_text(self.args_model))

    def describe(self, tips: Iterable[str] = ()) -> str:
        """The description plus tips learned from experience, if any."""
        tips = [t.strip() for t in tips if t and t.strip()]
        if not tips:
            return self.description
        return self.description + f"\n{TIPS_HEADER}\n" + "\n".join(f"- {t}" for t in tips)


@functools.lru_cache(maxsize=1024)
def _schema_text(model: type[BaseModel]) -> str:
    """An argument model's cleaned JSON schema, as text: pydantic builds a schema in
    ~0.2 ms, and every run asks again for each tool (copying the text costs ~0.01 ms)."""
    return json.dumps(_clean_schema(model.model_json_schema()))


def tool(*, name: str, group: Group, read_only: bool) -> Callable[[ToolFn], Tool]:
    """Decorator that turns ``async def f(ctx, args: Model) -> ToolResult`` into a Tool."""

    def wrap(fn: ToolFn) -> Tool:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"tool {name} must be an async function")
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {name} must take (ctx, args)")
        model = hints.get(params[1])
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"tool {name}: the args parameter must be a pydantic model")
        description = inspect.cleandoc(fn.__doc__ or "").strip()
        if not description:
            raise TypeError(f"tool {name} needs a docstring: it is what the model reads")
        return Tool(name, fn, model, description, group, read_only)

    return wrap


class ToolRegistry:
    """An ordered set of tools that produces schemas and runs calls safely."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.register(t)

    def register(self, t: Tool) -> None:
        """Add a tool; names must be unique."""
        if t.name in self._tools:
            raise ValueError(f"tool {t.name!r} registered twice")
        self._tools[t.name] = t

    def get(self, name: str) -> Tool:
        """The tool called ``name``; ToolNotFound (with close names) otherwise."""
        try:
            return self._tools[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._tools, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ToolNotFound(f"no tool named {name!r}{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._tools)

    def subset(
        self, *, names: Iterable[str] | None = None, read_only: bool | None = None
    ) -> ToolRegistry:
        """A new registry with the named tools and/or only read-only ones."""
        wanted = set(names) if names is not None else None
        return ToolRegistry(
            t
            for t in self
            if (wanted is None or t.name in wanted)
            and (read_only is None or t.read_only == read_only)
        )

    def openai_schemas(self, tips: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        """``[{"name", "description", "parameters"}]`` for native tool calling."""
        tips = tips or {}
        return [
            {
                "name": t.name,
                "description": t.describe(tips.get(t.name, ())),
                "parameters": t.parameters(),
            }
            for t in self
        ]

    def describe_text(
        self, tips: Mapping[str, list[str]] | None = None, *, compact: bool = False
    ) -> str:
        """A plain-text catalogue for models without native tool calls.

        ``compact`` gives one line per tool (typed signature, ``?`` marks optional
        arguments), about a third of the full text, for small context windows.
        """
        tips = tips or {}
        if compact:
            return "\n".join(self._signature(t, tips.get(t.name, ())) for t in self)
        blocks = []
        for t in self:
            schema = t.parameters()
            props: dict[str, Any] = schema.get("properties", {})
            required = set(schema.get("required", []))
            lines = [f"{t.name}({', '.join(props)}): {t.describe(tips.get(t.name, ()))}"]
            for pname, p in props.items():
                kind = _type_name(p)
                extra = (
                    "required" if pname in required else f"default {json.dumps(p.get('default'))}"
                )
                desc = p.get("description", "")
                lines.append(f"  - {pname} ({kind}, {extra}){': ' + desc if desc else ''}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    @staticmethod
    def _signature(t: Tool, tips: Iterable[str]) -> str:
        return signature_line(t.name, t.description, t.parameters(), tips)

    async def call(
        self, name: str, arguments: Mapping[str, Any] | str | None, ctx: ToolContext
    ) -> ToolResult:
        """Validate, run and budget one call; failures come back as a ToolResult error."""
        try:
            t = self.get(name)
        except ToolNotFound as exc:
            return ToolResult.fail(f"{exc}. Available tools: {', '.join(self.names)}")
        try:
            if isinstance(arguments, str):
                arguments = json.loads(arguments) if arguments.strip() else {}
            args = _validate(t, dict(arguments or {}))
        except json.JSONDecodeError as exc:
            return ToolResult.fail(f"arguments of {name} are not valid JSON: {exc}")
        except (ValidationError, TypeError, ValueError) as exc:
            send = signature_line(t.name, t.description, t.parameters()).split(" - ")[0]
            return ToolResult.fail(
                f"invalid arguments for {name}: {_validation_text(exc)}. Send: {send}"
            )
        try:
            result = await t.fn(ctx, args)
        except ToolError as exc:
            result = ToolResult.fail(str(exc))
        except ToolSetupError:
            raise
        except Exception as exc:  # a tool bug must not kill the run: report it as an observation
            log.exception("tool %s failed", name)
            result = ToolResult.fail(f"{name} failed unexpectedly: {type(exc).__name__}: {exc}")
        return enforce_budget(tool_name_hint(result, self.names), ctx.settings.output_budget_chars)


_NAME_ERROR = re.compile(r"NameError: name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def tool_name_hint(result: ToolResult, tool_names: Iterable[str]) -> ToolResult:
    """A failed script that called one of the agent's tools as if it were a function of the
    script's language gets told so: small models write ``file_write(...)`` inside Python."""
    if result.error is None:
        return result
    names = set(tool_names)
    called = [m for m in _NAME_ERROR.findall(result.output + "\n" + result.error) if m in names]
    if not called:
        return result
    hint = (
        f"\nHint: {called[0]} is one of your tools, not a function inside the script. "
        "Call the tool on its own, or do it in the script's language (in Python: open(), "
        "csv, or pandas' to_csv to write a file)."
    )
    return result.model_copy(update={"output": result.output + hint})


def enforce_budget(result: ToolResult, budget: int) -> ToolResult:
    """Cut the output (head and tail kept) so that it fits ``budget`` characters."""
    text = result.output
    if len(text) <= budget:
        return result
    marker_room = 60
    keep = max(budget - marker_room, 0)
    head, tail = keep * 3 // 4, keep - keep * 3 // 4
    cut = len(text) - head - tail
    new = (
        f"{text[:head]}\n[... {cut} characters cut ...]\n{text[len(text) - tail :] if tail else ''}"
    )
    return result.model_copy(
        update={"output": new, "truncated_chars": result.truncated_chars + cut}
    )


def _clean_schema(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs") and isinstance(value, dict):
                out[key] = {k: _clean_schema(v) for k, v in value.items()}
            else:
                out[key] = _clean_schema(value)
        return out
    if isinstance(node, list):
        return [_clean_schema(v) for v in node]
    return node


def signature_line(
    name: str, description: str, schema: Mapping[str, Any], tips: Iterable[str] = ()
) -> str:
    """One line for a tool: typed signature (``?`` marks optional arguments) and the first
    line of its description, then one ``tip:`` line per tip."""
    required = set(schema.get("required", []))
    args = [
        f"{arg}: {_type_name(p)}"
        if arg in required
        else f"{arg}?: {_type_name(p).removesuffix(' | null')}"
        for arg, p in schema.get("properties", {}).items()
    ]
    first = description.strip().split("\n")[0]
    line = f"{name}({', '.join(args)}) - {first}"
    tips = [x.strip() for x in tips if x and x.strip()]
    return line + "".join(f"\n  tip: {x}" for x in tips)


def _type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " | ".join(_type_name(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list[{_type_name(prop.get('items', {}))}]"
    return str(kind)


_BRACKETED = re.compile(r"^\s*\[?\s*(-?\d+)\s*\]?\s*$")


def _validate(t: Tool, arguments: dict[str, Any]) -> BaseModel:
    """Validate arguments, accepting the obvious intent of a small model's near misses.

    Tried once after a validation error: a number outside its bounds is clamped to them
    (``file_list`` with ``depth: 0``), an id written as ``"[12]"`` becomes 12, a single
    unknown key stands for the single missing required one (``file_path`` for ``path``), and
    an empty text for an optional field is taken as not given (small models fill every field
    of the schema: ``python_run`` with code and ``script: ""``).
    """
    try:
        return t.args_model.model_validate(arguments)
    except ValidationError as first:
        repaired = _repair(t.parameters(), arguments)
        if repaired == arguments:
            raise
        try:
            return t.args_model.model_validate(repaired)
        except ValidationError:
            raise first from None


def _repair(schema: Mapping[str, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties", {})
    out = dict(arguments)
    unknown = [k for k in out if k not in props]
    missing = [k for k in schema.get("required", []) if k not in out]
    if len(unknown) == 1 and len(missing) == 1:
        out[missing[0]] = out.pop(unknown[0])
    for key, value in list(out.items()):
        prop = props.get(key, {})
        if isinstance(value, str) and not value.strip() and "default" in prop:
            if prop["default"] in (None, ""):
                del out[key]
                continue
        kinds = {prop.get("type")} | {a.get("type") for a in prop.get("anyOf", [])}
        if kinds & {"integer", "number"} and isinstance(value, str):
            m = _BRACKETED.match(value)
            if m:
                value = int(m.group(1))
        if isinstance(value, int | float) and not isinstance(value, bool):
            bounds = [prop, *prop.get("anyOf", [])]
            low = next((b["minimum"] for b in bounds if "minimum" in b), None)
            high = next((b["maximum"] for b in bounds if "maximum" in b), None)
            if low is not None and value < low:
                value = low
            if high is not None and value > high:
                value = high
        out[key] = value
    return out


def _validation_text(exc: Exception) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)
