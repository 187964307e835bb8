"""A tool of the run called as a Python function inside python_run's code.

Offered a learned skill with its arguments filled in, the 1.5B model sent
``python_run {"code": "skill_expense_totals_column('Finance/expenses-5240.csv', 'category', ...)"}``,
then the same after ``from my_skills import ...``: four failed scripts and a lost attempt
(curve on fcbf833, pass 3). The skills are listed to it by their signatures, and small
models write what a signature invites.

- Code that is nothing but one call of an offered tool (imports of that name aside), with
  literal arguments, is that tool call: positional arguments are taken in the order of the
  tool's parameters, keywords by name. The model chose the tool and its values; only the
  form was wrong. The result says what ran, so the next call can be sent as a tool.
- A skill called inside other code is held back, with the call written out when its
  arguments are literals: a skill is never a function of the workspace's Python. (A
  registry tool called inside a script runs and fails with a ``NameError``, which the
  registry answers with a hint: ``tools.registry.tool_name_hint``.)
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from agent.llm.base import ToolCall
from agent.skills import SKILL_PREFIX
from agent.targets import HELD_BACK

CODE_TOOL = "python_run"


def _parse(call: ToolCall) -> ast.Module | None:
    if call.name != CODE_TOOL:
        return None
    code = call.arguments.get("code")
    if not isinstance(code, str) or not code.strip():
        return None
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _defined(tree: ast.Module) -> set[str]:
    """Names the code itself binds: functions, classes, assignments, loop and ``with``
    targets. An import does not count (``from my_skills import skill_x`` binds nothing real)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
    return out


def _imported(node: ast.stmt) -> set[str] | None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return None


def _arguments(node: ast.Call, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
    """The call's literal arguments by parameter name, or None when one is not a literal,
    is spread (``*a``, ``**k``), is one too many, or names no parameter."""
    names = list((parameters.get("properties") or {}).keys())
    if len(node.args) > len(names):
        return None
    out: dict[str, Any] = {}
    try:
        for name, arg in zip(names, node.args, strict=False):
            if isinstance(arg, ast.Starred):
                return None
            out[name] = ast.literal_eval(arg)
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in names or kw.arg in out:
                return None
            out[kw.arg] = ast.literal_eval(kw.value)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    return out


def as_tool_call(call: ToolCall, offered: Mapping[str, Mapping[str, Any]]) -> ToolCall | None:
    """The tool call that python_run ``call`` writes as code, when its code is only that
    call (imports of the tool's name aside) with literal arguments; ``offered`` maps the
    tools offered now to their parameter schemas. None otherwise."""
    tree = _parse(call)
    if tree is None:
        return None
    body = [s for s in tree.body if not isinstance(s, ast.Pass)]
    calls = [s for s in body if _imported(s) is None]
    if len(calls) != 1 or not isinstance(calls[0], ast.Expr):
        return None
    node = calls[0].value
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return None
    name = node.func.id
    if name == CODE_TOOL or name not in offered or name in _defined(tree):
        return None
    if any(not (_imported(s) or set()) <= {name} for s in body):
        return None  # it imports something else too: code, not a lone call
    arguments = _arguments(node, offered[name])
    if arguments is None:
        return None
    return ToolCall(id=call.id, name=name, arguments=arguments)


def ran_as_tool(original: ToolCall, tool: ToolCall) -> str:
    """The first line of the result of a python_run that ran as ``tool``."""
    return (
        f"[python_run's code was only a call of the tool {tool.name}: it ran as that tool call, "
        f"{tool.name} {json.dumps(tool.arguments, ensure_ascii=False)}. Call tools as tools, "
        "not from code.]"
    )


def skill_in_code(call: ToolCall, offered: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The error that holds back python_run code calling an offered skill among other
    code (it would fail with a ``NameError``), naming the call to send instead."""
    tree = _parse(call)
    if tree is None:
        return None
    defined = _defined(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        name = node.func.id
        if not name.startswith(SKILL_PREFIX) or name not in offered or name in defined:
            continue
        arguments = _arguments(node, offered[name])
        send = (
            f": send {name} {json.dumps(arguments, ensure_ascii=False)}"
            if arguments is not None
            else f" with its arguments ({', '.join(offered[name].get('properties') or {})})"
        )
        return (
            f"{HELD_BACK}{name} (line {node.lineno}) is a tool, not a function of the "
            f"workspace's Python; nothing defines it there. Call it as a tool in a reply of "
            f"its own{send}."
        )
    return None


__all__ = ["as_tool_call", "ran_as_tool", "skill_in_code"]
