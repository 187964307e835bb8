"""Tool calling for models without native tool calls, and schema prompts.

The client appends the tool descriptions to the system prompt and asks for one JSON
action per reply: ``{"tool": NAME, "arguments": {...}}`` or ``{"final_answer": "..."}``.
Past tool calls are shown to the model as those actions and tool results as
observations, so the conversation reads the same way it was asked. Callers never see
any of this: they get :class:`~agent.llm.base.ToolCall` values either way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from agent.llm.base import Message, ToolCall, ToolSpec
from tools.registry import TIPS_HEADER, signature_line

ACTION_FORMAT = (
    "To use a tool, reply with exactly one JSON object and nothing else: "
    '{"tool": "<tool name>", "arguments": {<arguments as described by the tool\'s schema>}}. '
    'When the task is done, reply with {"final_answer": "<your answer>"}.'
)


def tools_prompt(
    tools: list[ToolSpec], *, output: type[BaseModel] | None = None, compact: bool = False
) -> str:
    """The block appended to the system prompt: tools, their schemas, the action format.

    ``compact`` gives one typed signature line per tool instead of its JSON schema (about
    a third of the tokens), for profiles whose replies a schema constrains anyway.
    """
    lines = ["# Tools", "You can use these tools:"]
    for tool in tools:
        if compact:
            head, _, rest = tool.description.strip().partition(TIPS_HEADER)
            tips = [t.strip()[2:] for t in rest.splitlines() if t.strip().startswith("- ")]
            lines.append("- " + signature_line(tool.name, head, tool.parameters, tips))
            continue
        params = json.dumps(tool.parameters, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"- {tool.name}: {tool.description.strip()}\n  arguments schema: {params}")
    lines += ["", ACTION_FORMAT]
    if output is not None:
        schema = json.dumps(output.model_json_schema(), ensure_ascii=False, separators=(",", ":"))
        lines.append(f"The final_answer must be a JSON object matching this schema: {schema}")
    lines.append("The tool's result comes back in the next message as an observation.")
    return "\n".join(lines)


def schema_prompt(output: type[BaseModel]) -> str:
    """Instructions for structured output when the server cannot enforce a schema."""
    schema = json.dumps(output.model_json_schema(), ensure_ascii=False, separators=(",", ":"))
    return (
        f"Reply with only a JSON object (no prose, no code fence) that matches the JSON schema "
        f"of {output.__name__}: {schema}"
    )


def action_text(call: ToolCall) -> str:
    """A past tool call written the way the model was asked to write it."""
    return json.dumps({"tool": call.name, "arguments": call.arguments}, ensure_ascii=False)


def with_system_note(messages: list[Message], note: str) -> list[Message]:
    """The conversation with ``note`` appended to its (first) system message."""
    out = list(messages)
    for i, msg in enumerate(out):
        if msg.role == "system":
            out[i] = msg.model_copy(update={"content": f"{msg.content.rstrip()}\n\n{note}"})
            return out
    return [Message.system(note), *out]


def to_text_protocol(
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    output: type[BaseModel] | None = None,
    compact: bool = False,
) -> list[Message]:
    """Rewrite a conversation for a model that calls tools by writing JSON actions."""
    rendered: list[Message] = []
    note = tools_prompt(tools, output=output, compact=compact)
    for msg in with_system_note(messages, note):
        if msg.role == "assistant" and msg.tool_calls:
            actions = "\n".join(action_text(c) for c in msg.tool_calls)
            content = f"{msg.content.strip()}\n{actions}".strip()
            rendered.append(Message.assistant(content))
        elif msg.role == "tool":
            who = f" of {msg.name}" if msg.name else ""
            rendered.append(Message.user(f"Observation{who}:\n{msg.content}"))
        else:
            rendered.append(msg)
    return _merge_users(rendered)


def _merge_users(messages: list[Message]) -> list[Message]:
    """Join consecutive user messages: some chat templates insist on alternating roles."""
    out: list[Message] = []
    for msg in messages:
        if out and msg.role == "user" and out[-1].role == "user":
            out[-1] = Message.user(f"{out[-1].content}\n\n{msg.content}")
        else:
            out.append(msg)
    return out


def action_schema(
    tools: list[ToolSpec], *, output: type[BaseModel] | None = None, final: bool = True
) -> dict[str, Any] | None:
    """A JSON schema that admits exactly the valid actions, or None if one cannot be built.

    ``final=False`` leaves out the final answer: the reply must call a tool.

    Nested ``$defs`` are hoisted to the root so ``$ref`` pointers keep resolving; a name
    defined differently by two schemas makes the schema unbuildable (None).
    """
    defs: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    for tool in tools:
        params = _hoist(tool.parameters, defs)
        if params is None:
            return None
        branches.append(
            {
                "type": "object",
                "properties": {"tool": {"const": tool.name}, "arguments": params},
                "required": ["tool", "arguments"],
                "additionalProperties": False,
            }
        )
    answer: dict[str, Any] | None = {"type": "string"}
    if output is not None:
        answer = _hoist(output.model_json_schema(), defs)
        if answer is None:
            return None
    if final:
        branches.append(
            {
                "type": "object",
                "properties": {"final_answer": answer},
                "required": ["final_answer"],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = {"anyOf": branches}
    if defs:
        schema["$defs"] = defs
    return schema


def _hoist(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    schema = dict(schema)
    for name, body in (schema.pop("$defs", None) or {}).items():
        if name in defs and defs[name] != body:
            return None
        defs[name] = body
    return schema


def response_format(
    schema: dict[str, Any], *, name: str, mode: str, strict: bool = False
) -> dict[str, Any]:
    """The ``response_format`` for a schema: OpenAI's ``json_schema`` or llama.cpp's form."""
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "output"
    return {
        "type": "json_schema",
        "json_schema": {"name": safe, "schema": schema, "strict": strict},
    }
