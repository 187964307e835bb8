"""The one model protocol every backend implements, and the values it exchanges."""

from __future__ import annotations

from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]
T = TypeVar("T", bound=BaseModel)


class ToolCall(BaseModel):
    """One call of a tool requested by the model; ``arguments`` is already parsed JSON."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One chat message in OpenAI's shape, typed."""

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls, content: str) -> Message:
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: list[ToolCall] | None = None) -> Message:
        return cls(role="assistant", content=content, tool_calls=tool_calls or [])

    @classmethod
    def tool(cls, content: str, *, tool_call_id: str, name: str | None = None) -> Message:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, name=name)


class ToolSpec(BaseModel):
    """What the model is told about one tool: name, description, JSON schema of arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


class Usage(BaseModel):
    """Token counts and cost of one call, or a sum of calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            calls=self.calls + other.calls,
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "unknown"]


class Completion(BaseModel, Generic[T]):
    """What one ``complete`` call returns."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    parsed: T | None = None
    usage: Usage = Field(default_factory=Usage)
    finish_reason: FinishReason = "stop"
    model: str = ""

    def to_message(self) -> Message:
        """The assistant message to append to the conversation."""
        return Message.assistant(self.text, self.tool_calls)


@runtime_checkable
class LLM(Protocol):
    """One async protocol for every model backend."""

    @property
    def name(self) -> str: ...

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
        """One completion. ``require_tool``: the reply must call a tool (no final answer),
        enforced by the provider where it can (``tool_choice``, or the action grammar)."""
        ...
