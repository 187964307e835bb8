"""From a raw model reply to a :class:`Completion`, with bounded re-asks.

Every backend (HTTP client, scripted models) produces :class:`RawReply` values and shares
this logic, so tool-call parsing, structured output and re-asks behave the same
everywhere. A reply that cannot be used (invalid JSON, a schema violation, tool-call
arguments cut off) is answered with a re-ask quoting the error, at most ``reasks`` times;
then :class:`~agent.errors.StructuredOutputError` names what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agent.errors import StructuredOutputError
from agent.llm.base import Completion, FinishReason, Message, ToolCall, ToolSpec, Usage
from agent.llm.parsing import (
    ReplyParseError,
    new_call_id,
    parse_action,
    parse_arguments,
    parse_structured,
    strip_reasoning,
)


@dataclass
class RawToolCall:
    """A tool call as the provider sent it: arguments may still be an (invalid) JSON string."""

    name: str
    arguments: str | dict[str, Any] | None
    id: str = field(default_factory=new_call_id)


@dataclass
class RawReply:
    """One reply before interpretation. ``parsed`` lets scripted models hand over objects."""

    text: str = ""
    tool_calls: list[RawToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: FinishReason = "stop"
    model: str = ""
    parsed: BaseModel | None = None


class UnusableReply(Exception):
    """A reply that deserves a re-ask: what went wrong, and what was expected."""

    def __init__(self, error: str, *, expected: str, instruction: str) -> None:
        super().__init__(error)
        self.error = error
        self.expected = expected
        self.instruction = instruction


@dataclass(frozen=True)
class Request:
    """What the caller asked for, as the interpreter needs it."""

    tools: list[ToolSpec] | None = None
    output: type[BaseModel] | None = None
    text_protocol: bool = False
    require_tool: bool = False  # the reply must call a tool (the provider enforces it)


def interpret(raw: RawReply, request: Request) -> Completion[Any]:
    """Turn a raw reply into a completion, or raise :class:`UnusableReply`."""
    calls = [_tool_call(c) for c in raw.tool_calls]
    text = strip_reasoning(raw.text) if raw.text else ""
    finish = raw.finish_reason
    if not calls and request.text_protocol and request.tools:
        calls, text = _text_action(raw.text, request.tools)
    parsed = raw.parsed
    if request.output is not None and not calls and parsed is None:
        try:
            parsed = parse_structured(text, request.output)
        except ReplyParseError as exc:
            name = request.output.__name__
            raise UnusableReply(
                str(exc),
                expected=name,
                instruction=f"Reply with only a JSON object that matches the schema {name!r}.",
            ) from None
    if calls and finish == "stop":
        finish = "tool_calls"
    return Completion(
        text=text,
        tool_calls=calls,
        parsed=parsed,
        usage=raw.usage,
        finish_reason=finish,
        model=raw.model,
    )


def _tool_call(raw: RawToolCall) -> ToolCall:
    try:
        arguments = parse_arguments(raw.arguments)
    except ReplyParseError as exc:
        raise UnusableReply(
            f"the arguments of your call to tool {raw.name!r} are unusable: {exc}",
            expected=f"arguments of tool {raw.name!r}",
            instruction="Call the tool again with complete, valid JSON arguments "
            "(keep long values short if your reply was cut off).",
        ) from None
    return ToolCall(id=raw.id, name=raw.name, arguments=arguments)


def _text_action(text: str, tools: list[ToolSpec]) -> tuple[list[ToolCall], str]:
    instruction = (
        'Reply with exactly one JSON object: {"tool": "<name>", "arguments": {...}} '
        'or {"final_answer": "..."}.'
    )
    try:
        action = parse_action(text, tools)
    except ReplyParseError as exc:
        raise UnusableReply(str(exc), expected="JSON action", instruction=instruction) from None
    if action.kind != "tool":
        return [], action.final_answer or ""
    known = {t.name for t in tools}
    unknown = [c.name for c in action.tool_calls if c.name not in known]
    if unknown:
        raise UnusableReply(
            f"there is no tool named {unknown[0]!r}; the tools are: {', '.join(sorted(known))}",
            expected="JSON action",
            instruction=instruction,
        )
    return action.tool_calls, action.thought


def reask_messages(raw: RawReply, problem: UnusableReply) -> list[Message]:
    """The bad reply, then a user turn quoting the error and asking again."""
    shown = raw.text
    for call in raw.tool_calls:
        args = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        shown += f"\n(tool call {call.name} with arguments: {(args or '')[:2000]})"
    return [
        Message.assistant(shown.strip() or "(empty reply)"),
        Message.user(
            f"Your previous reply could not be used: {problem.error}\n{problem.instruction}"
        ),
    ]


async def complete_with_reasks(
    send: Callable[[list[Message]], Awaitable[RawReply]],
    messages: list[Message],
    request: Request,
    *,
    reasks: int,
    on_reask: Callable[[UnusableReply], None] | None = None,
) -> Completion[Any]:
    """Ask, interpret, and re-ask at most ``reasks`` times; usage sums every round."""
    conversation = list(messages)
    usage = Usage()
    last: UnusableReply | None = None
    for round_ in range(reasks + 1):
        raw = await send(conversation)
        usage = usage + raw.usage
        try:
            completion = interpret(raw, request)
        except UnusableReply as problem:
            last = problem
            if round_ < reasks:
                if on_reask is not None:
                    on_reask(problem)
                conversation += reask_messages(raw, problem)
            continue
        completion.usage = usage
        return completion
    assert last is not None
    raise StructuredOutputError(last.expected, last.error, reasks + 1)
