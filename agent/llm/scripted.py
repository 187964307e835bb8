"""Deterministic models that ship in the package: for tests, examples and smoke runs.

    llm = ScriptedLLM([
        "plain text",                                            # a text reply
        {"tool": "file_read", "arguments": {"path": "a.txt"}},   # a tool call
        [{"tool": "a", "arguments": {}}, {"tool": "b", "arguments": {}}],  # two calls
        {"final_answer": "done"},                                # text "done"
        Plan(steps=["x"]),                                       # a parsed object
        {"steps": ["x"]},                                        # validated into output=
        '```json\\n{"steps": ["x"]}\\n```',                      # parsed like a real reply
        Completion(text="as is"),                                # taken as given
        ProviderUnavailable("boom"),                             # raised
    ])
    llm = FunctionLLM(lambda messages, tools, output: "echo: " + messages[-1].content)

Replies go through the same interpretation as the HTTP client: a string that is a JSON
action becomes a tool call when tools are offered, structured output is parsed and
validated, and an unusable reply is re-asked, which consumes the next scripted entry.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from pydantic import BaseModel, ValidationError

from agent.config import ModelProfile
from agent.errors import ScriptExhausted
from agent.llm.base import Completion, Message, ToolCall, ToolSpec, Usage
from agent.llm.parsing import parse_action
from agent.llm.replies import RawReply, RawToolCall, Request, complete_with_reasks
from agent.llm.usage import cost_usd

ScriptItem: TypeAlias = (
    str | dict[str, Any] | list[Any] | ToolCall | BaseModel | Completion[Any] | BaseException
)
ReplyFn: TypeAlias = Callable[
    [list[Message], list[ToolSpec] | None, type[BaseModel] | None],
    ScriptItem | Awaitable[ScriptItem],
]


@dataclass(frozen=True)
class ModelCall:
    """One request a scripted model received (for assertions in tests)."""

    messages: list[Message]
    tools: list[ToolSpec] | None
    output: type[BaseModel] | None
    require_tool: bool = False


class _LocalModel:
    """What both scripted models share: recording calls, turning items into replies."""

    def __init__(self, *, name: str, reasks: int, profile: ModelProfile | None) -> None:
        self._name = name
        self.reasks = reasks
        self.profile = profile
        self.calls: list[ModelCall] = []

    @property
    def name(self) -> str:
        return self._name

    async def complete(
        self,
        messages: list[Message],
        *,
        tools: list[ToolSpec] | None = None,
        output: type[BaseModel] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        require_tool: bool = False,
    ) -> Completion[Any]:
        """Reply from the script; same interpretation and re-asks as a real model."""
        request = Request(tools=tools or None, output=output, text_protocol=bool(tools))

        async def send(conversation: list[Message]) -> RawReply:
            self.calls.append(ModelCall(list(conversation), tools, output, require_tool))
            item = await self._next(conversation, tools, output)
            return self._raw(item, conversation, tools, output)

        return await complete_with_reasks(send, messages, request, reasks=self.reasks)

    async def _next(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None,
        output: type[BaseModel] | None,
    ) -> ScriptItem:
        """The next scripted item; each concrete model says where it comes from."""
        raise NotImplementedError(f"{type(self).__name__} must define _next")

    def _raw(
        self,
        item: ScriptItem,
        messages: list[Message],
        tools: list[ToolSpec] | None,
        output: type[BaseModel] | None,
    ) -> RawReply:
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, type) and issubclass(item, BaseException):
            raise item()
        raw = _to_raw(item, tools, output)
        if not raw.model:
            raw.model = self._name
        if raw.usage.calls == 0:
            raw.usage = self._usage(messages, raw)
        return raw

    def _usage(self, messages: list[Message], raw: RawReply) -> Usage:
        """A rough token count (4 characters a token), priced by the profile if any."""
        input_tokens = sum(len(m.content) for m in messages) // 4 + 1
        out_chars = len(raw.text) + sum(len(json.dumps(c.arguments)) for c in raw.tool_calls)
        output_tokens = out_chars // 4 + 1
        return Usage(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd(self.profile, input_tokens=input_tokens, output_tokens=output_tokens),
            calls=1,
        )


class ScriptedLLM(_LocalModel):
    """Replays a list of replies, one per request; raises :class:`ScriptExhausted` after."""

    def __init__(
        self,
        responses: Iterable[ScriptItem],
        *,
        name: str = "scripted",
        reasks: int = 2,
        profile: ModelProfile | None = None,
    ) -> None:
        super().__init__(name=name, reasks=reasks, profile=profile)
        self.responses: list[ScriptItem] = list(responses)
        self._position = 0

    @property
    def remaining(self) -> int:
        """Replies not yet used."""
        return len(self.responses) - self._position

    def add(self, *responses: ScriptItem) -> None:
        """Append replies to the script."""
        self.responses.extend(responses)

    async def _next(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None,
        output: type[BaseModel] | None,
    ) -> ScriptItem:
        if self._position >= len(self.responses):
            last = next((m.content for m in reversed(messages) if m.role != "system"), "")
            raise ScriptExhausted(
                f"scripted model {self._name!r} ran out of replies after "
                f"{len(self.responses)} (request {self._position + 1}, last message: "
                f"{' '.join(last.split())[:120]!r}); add more replies to its script"
            )
        item = self.responses[self._position]
        self._position += 1
        return item


class FunctionLLM(_LocalModel):
    """Computes each reply with ``fn(messages, tools, output)`` (sync or async)."""

    def __init__(
        self,
        fn: ReplyFn,
        *,
        name: str = "function",
        reasks: int = 2,
        profile: ModelProfile | None = None,
    ) -> None:
        super().__init__(name=name, reasks=reasks, profile=profile)
        self.fn = fn

    async def _next(
        self,
        messages: list[Message],
        tools: list[ToolSpec] | None,
        output: type[BaseModel] | None,
    ) -> ScriptItem:
        item = self.fn(messages, tools, output)
        if inspect.isawaitable(item):
            item = await item
        return item


def _to_raw(
    item: ScriptItem, tools: list[ToolSpec] | None, output: type[BaseModel] | None
) -> RawReply:
    """A script item as the raw reply a provider would have sent."""
    if isinstance(item, Completion):
        return RawReply(
            text=item.text,
            tool_calls=[RawToolCall(c.name, c.arguments, c.id) for c in item.tool_calls],
            usage=item.usage,
            finish_reason=item.finish_reason,
            model=item.model,
            parsed=item.parsed,
        )
    if isinstance(item, ToolCall):
        return RawReply(tool_calls=[RawToolCall(item.name, item.arguments, item.id)])
    if isinstance(item, BaseModel):
        parsed = item if output is None or isinstance(item, output) else None
        return RawReply(text=item.model_dump_json(), parsed=parsed)
    if isinstance(item, str):
        return RawReply(text=item)
    if isinstance(item, dict | list):
        text = json.dumps(item, ensure_ascii=False)
        if output is not None:
            try:
                return RawReply(text=text, parsed=output.model_validate(item))
            except ValidationError:
                pass
        action = parse_action(text, tools)
        if action.kind == "tool":
            calls = [RawToolCall(c.name, c.arguments, c.id) for c in action.tool_calls]
            return RawReply(tool_calls=calls)
        if action.kind == "final" and isinstance(item, dict):
            return RawReply(text=action.final_answer or "")
        return RawReply(text=text)
    raise TypeError(f"cannot use {type(item).__name__} as a scripted reply")
