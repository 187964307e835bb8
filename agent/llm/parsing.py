"""Tolerant reading of model replies: JSON values, pydantic objects and JSON actions.

Models wrap JSON in code fences, put reasoning (``<think>`` blocks, prose) before or
after it, leave trailing commas, write Python literals, and call tools in several
dialects. Everything here is pure: text in, values out, :class:`ReplyParseError` when
nothing usable is found (its message is written to be quoted back to the model).
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from agent.llm.base import ToolCall, ToolSpec

T = TypeVar("T", bound=BaseModel)

_REASONING = re.compile(
    r"<(think|thinking|reasoning|reflection)>.*?</\1>", re.DOTALL | re.IGNORECASE
)
_UNOPENED_THINK = re.compile(r"^.*?</(?:think|thinking|reasoning)>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_THINK = re.compile(r"<(?:think|thinking|reasoning)>.*\Z", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"(```|~~~)[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\1|\Z)", re.DOTALL)
_TOOL_TAG = re.compile(
    r"<(tool_call|function_call|tool|action)>\s*(.*?)\s*(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE
)
_REACT = re.compile(
    r"^\s*Action\s*:\s*`?([\w.\-]+)`?\s*$\s*^\s*Action\s*Input\s*:\s*(.+)",
    re.MULTILINE | re.DOTALL | re.IGNORECASE,
)
_REACT_FINAL = re.compile(
    r"^\s*Final\s*Answer\s*:\s*(.+)", re.MULTILINE | re.DOTALL | re.IGNORECASE
)

_FINAL_KEYS = ("final_answer", "finalAnswer", "final", "answer")
_FINAL_NAMES = {"final_answer", "final answer", "finalanswer", "final", "finish", "answer"}
_NAME_KEYS = ("tool", "tool_name", "action", "function_name", "name")
_ARG_KEYS = (
    "arguments",
    "args",
    "parameters",
    "params",
    "action_input",
    "tool_input",
    "input",
    "kwargs",
)
_META_KEYS = {"thought", "thoughts", "reasoning", "reason", "explanation", "id", "type"}


class ReplyParseError(ValueError):
    """A reply held no usable JSON; the message says why, for a re-ask."""


@dataclass(frozen=True)
class _Candidate:
    value: Any
    start: int
    end: int


@dataclass
class ParsedAction:
    """What a text-protocol reply asks for: tool calls, a final answer, or plain text.

    ``kind`` is ``"tool"`` (``tool_calls`` set), ``"final"`` (``final_answer`` set, from an
    explicit final-answer action) or ``"text"`` (no action found; ``final_answer`` is the
    cleaned text). ``thought`` is the prose around the action, reasoning blocks removed.
    """

    kind: Literal["tool", "final", "text"]
    tool_calls: list[ToolCall] = field(default_factory=list)
    final_answer: str | None = None
    thought: str = ""


# --- cleaning and candidates ---------------------------------------------------------


def strip_reasoning(text: str) -> str:
    """Remove ``<think>``-style blocks, including one whose opening tag the server dropped."""
    text = _REASONING.sub("", text)
    text = _UNOPENED_THINK.sub("", text)
    return _UNCLOSED_THINK.sub("", text).strip()


def _loads(text: str) -> Any:
    """``json.loads`` with repairs for the usual slips; raises ValueError if hopeless."""
    text = text.strip().lstrip("\ufeff")
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as first:
        try:
            return json.loads(_repair(text), strict=False)
        except json.JSONDecodeError:
            pass
        try:  # a Python literal: single quotes, True/False/None
            value = ast.literal_eval(text)
            if isinstance(value, (dict, list)):
                return json.loads(json.dumps(value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        raise first from None


_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def _repair(text: str) -> str:
    """Drop comments and trailing commas, map Python literals; strings are left alone."""
    out: list[str] = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        ch = text[i]
        if in_str:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_str = False
            i += 1
            continue
        if ch == '"':
            in_str = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                i += 1  # trailing comma
            else:
                out.append(ch)
                i += 1
        elif ch.isalpha():
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            out.append(_PY_LITERALS.get(word, word))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _balanced_end(text: str, start: int) -> int | None:
    """Index after the bracket that closes the one at ``start``, or None if unbalanced."""
    stack: list[str] = []
    in_str = False
    i = start
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i + 1
        i += 1
    return None


def _scan(text: str, offset: int = 0) -> list[_Candidate]:
    """Every top-level JSON object or array in free text, left to right."""
    found: list[_Candidate] = []
    i = 0
    while i < len(text):
        if text[i] in "{[":
            end = _balanced_end(text, i)
            if end is not None:
                try:
                    value = _loads(text[i:end])
                except ValueError:
                    pass
                else:
                    if isinstance(value, (dict, list)):
                        found.append(_Candidate(value, offset + i, offset + end))
                        i = end
                        continue
        i += 1
    return found


def _candidates(text: str) -> list[_Candidate]:
    """JSON values in a cleaned reply: fenced blocks first, then any in the prose."""
    found: list[_Candidate] = []
    covered: list[tuple[int, int]] = []
    for match in _FENCE.finditer(text):
        body = match.group(3)
        covered.append(match.span())
        try:
            value = _loads(body)
        except ValueError:
            found.extend(_scan(body, match.start(3)))
            continue
        found.append(_Candidate(value, match.start(), match.end()))
    rest = list(text)
    for start, end in covered:
        rest[start:end] = [" "] * (end - start)
    found.extend(_scan("".join(rest)))
    return found


def extract_json(text: str) -> Any:
    """The first JSON value in a reply (fences, reasoning and prose tolerated)."""
    clean = strip_reasoning(text)
    found = _candidates(clean)
    if found:
        objects = [c.value for c in found if isinstance(c.value, dict)]
        return objects[0] if objects else found[0].value
    try:
        return _loads(clean)
    except ValueError:
        pass
    raise ReplyParseError(_no_json_message(clean))


def _no_json_message(clean: str) -> str:
    if not clean:
        return "the reply was empty; answer with a JSON object"
    opened = clean.count("{") - clean.count("}")
    if opened > 0:
        return "the JSON object in the reply is incomplete (unbalanced braces; was it cut off?)"
    return "no JSON object was found in the reply"


# --- structured output ---------------------------------------------------------------


def parse_structured(text: str, output: type[T]) -> T:
    """The first JSON value in ``text`` that validates as ``output``.

    Raises :class:`ReplyParseError` quoting the validation error of the best candidate.
    """
    clean = strip_reasoning(text)
    found = [c.value for c in _candidates(clean)]
    if not found:
        try:
            found = [_loads(clean)]
        except ValueError:
            raise ReplyParseError(_no_json_message(clean)) from None
    first_error: ValidationError | None = None
    for value in found:
        for attempt in _unwrapped(value):
            try:
                return output.model_validate(attempt)
            except ValidationError as exc:
                first_error = first_error or exc
    assert first_error is not None
    opening = min((i for i in (clean.find("{"), clean.find("[")) if i >= 0), default=-1)
    if opening >= 0 and _balanced_end(clean, opening) is None:
        raise ReplyParseError(_no_json_message(clean))
    raise ReplyParseError(
        f"the JSON does not match schema {output.__name__!r}: {format_validation_error(first_error)}"
    )


def _unwrapped(value: Any) -> list[Any]:
    """The value, then what it may be wrapped in ({"Plan": {...}}, {"final_answer": {...}})."""
    out = [value]
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, dict):
            out.append(inner)
        elif isinstance(inner, str) and inner.lstrip().startswith("{"):
            try:
                out.append(_loads(inner))
            except ValueError:
                pass
    return out


def format_validation_error(exc: ValidationError, *, limit: int = 5) -> str:
    """A short one-line summary of a pydantic error, fit to quote to a model."""
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# --- JSON actions (tool calls written as text) ---------------------------------------


def new_call_id() -> str:
    """A fresh tool-call id in OpenAI's style."""
    return f"call_{uuid.uuid4().hex[:16]}"


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool-call arguments as a dict; raises :class:`ReplyParseError` if they are not JSON."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = _loads(raw)
    except ValueError as exc:
        hint = " (it looks cut off)" if _balanced_end(raw.strip(), 0) is None else ""
        raise ReplyParseError(f"the arguments are not valid JSON{hint}: {exc}") from None
    if not isinstance(value, dict):
        raise ReplyParseError(f"the arguments must be a JSON object, got {type(value).__name__}")
    return value


def parse_action(text: str, tools: list[ToolSpec] | None = None) -> ParsedAction:
    """Read one JSON action (or several) from a reply of a model without native tool calls.

    Accepted: ``{"tool": N, "arguments": {...}}``, ``{"final_answer": "..."}``,
    ``{"name": N, "arguments"|"parameters": ...}``, ``{"action": N, "action_input": ...}``,
    ``{"function": {"name": N, "arguments": "..."}}``, ``{"tool_calls": [...]}``, lists of
    these, ``<tool_call>...</tool_call>`` tags, and ReAct's ``Action:`` / ``Action Input:``.
    Raises :class:`ReplyParseError` when the reply tries to call a tool but is unreadable.
    """
    clean = strip_reasoning(text)
    specs = {t.name: t for t in tools or []}

    tags = list(_TOOL_TAG.finditer(clean))
    if tags:
        calls: list[ToolCall] = []
        for tag in tags:
            try:
                value = _loads(tag.group(2))
            except ValueError as exc:
                raise ReplyParseError(f"the tool call is not valid JSON: {exc}") from None
            action = _as_action(value, specs)
            if action is None or action.kind != "tool":
                raise ReplyParseError("a <tool_call> must hold {'name': ..., 'arguments': {...}}")
            calls.extend(action.tool_calls)
        thought = _TOOL_TAG.sub("", clean).strip()
        return ParsedAction("tool", tool_calls=calls, thought=thought)

    for cand in _candidates(clean):
        action = _as_action(cand.value, specs)
        if action is not None:
            action.thought = (clean[: cand.start] + clean[cand.end :]).strip()
            return action

    react = _react_action(clean, specs)
    if react is not None:
        return react

    if _looks_like_failed_action(clean):
        raise ReplyParseError(
            "the JSON action could not be read: "
            + _no_json_message(clean).removeprefix("the reply was empty; ")
        )
    return ParsedAction("text", final_answer=clean)


def _as_action(value: Any, specs: dict[str, ToolSpec]) -> ParsedAction | None:
    """Recognise one of the action dialects in a parsed JSON value."""
    if isinstance(value, list):
        calls: list[ToolCall] = []
        for item in value:
            action = _as_action(item, specs)
            if action is None or action.kind != "tool":
                return None
            calls.extend(action.tool_calls)
        return ParsedAction("tool", tool_calls=calls) if calls else None
    if not isinstance(value, dict) or not value:
        return None
    for key in _FINAL_KEYS:
        if key in value and set(value) - _META_KEYS <= {key}:
            return ParsedAction("final", final_answer=_as_text(value[key]))
    if isinstance(value.get("tool_calls"), list):
        return _as_action(value["tool_calls"], specs)
    function = value.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):
        return _call(function["name"], _first_args(function), specs)
    for key in _NAME_KEYS:
        name = value.get(key)
        if not isinstance(name, str) or not name.strip():
            continue
        name = name.strip()
        args = _first_args(value)
        if name.lower().replace("-", "_") in _FINAL_NAMES and name not in specs:
            return ParsedAction("final", final_answer=_as_text(args if args is not None else ""))
        if args is None:
            rest = {k: v for k, v in value.items() if k != key and k not in _META_KEYS}
            # a bare {"name": ...} is too ambiguous unless it names a known tool
            if key == "name" and name not in specs:
                continue
            args = rest
        return _call(name, args, specs)
    return None


def _first_args(value: dict[str, Any]) -> Any:
    for key in _ARG_KEYS:
        if key in value:
            return value[key]
    return None


def _call(name: str, args: Any, specs: dict[str, ToolSpec]) -> ParsedAction:
    if isinstance(args, str):
        stripped = args.strip()
        if stripped.startswith("{"):
            arguments = parse_arguments(stripped)
        else:
            arguments = {_single_param(specs.get(name)): args}
    elif isinstance(args, dict):
        arguments = args
    elif args is None:
        arguments = {}
    else:
        arguments = {_single_param(specs.get(name)): args}
    return ParsedAction(
        "tool", tool_calls=[ToolCall(id=new_call_id(), name=name, arguments=arguments)]
    )


def _single_param(spec: ToolSpec | None) -> str:
    """Where a bare string argument goes: the tool's only (or first required) parameter."""
    if spec is not None:
        props = list((spec.parameters.get("properties") or {}).keys())
        required = list(spec.parameters.get("required") or [])
        if len(props) == 1:
            return props[0]
        if required:
            return str(required[0])
    return "input"


def _react_action(clean: str, specs: dict[str, ToolSpec]) -> ParsedAction | None:
    match = _REACT.search(clean)
    if match:
        name, raw = match.group(1), match.group(2).strip()
        raw = re.split(r"\n\s*Observation\s*:", raw, maxsplit=1)[0].strip().strip("`")
        if name.lower().replace("-", "_") in _FINAL_NAMES and name not in specs:
            return ParsedAction("final", final_answer=raw, thought=clean[: match.start()].strip())
        found = _candidates(raw)
        args: Any = found[0].value if found and found[0].start == 0 else raw
        action = _call(name, args, specs)
        action.thought = clean[: match.start()].strip()
        return action
    final = _REACT_FINAL.search(clean)
    if final:
        return ParsedAction(
            "final", final_answer=final.group(1).strip(), thought=clean[: final.start()].strip()
        )
    return None


def _looks_like_failed_action(clean: str) -> bool:
    return "{" in clean and bool(re.search(r'["\']?(tool|arguments|final_answer)["\']?\s*:', clean))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
