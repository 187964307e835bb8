"""Token usage and cost: per call (from a provider's report) and per run (:class:`UsageMeter`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agent.config import ModelProfile
from agent.llm.base import LLM, Completion, Message, ToolSpec, Usage


def cost_usd(
    profile: ModelProfile | None, *, input_tokens: int, output_tokens: int, cached_tokens: int = 0
) -> float:
    """Price of one call from the profile's per-million-token prices.

    Cached input tokens are billed at ``price_cached_per_mtok`` when the profile sets it,
    else at the normal input price.
    """
    if profile is None:
        return 0.0
    cached = min(max(cached_tokens, 0), input_tokens)
    cached_price = (
        profile.price_cached_per_mtok
        if profile.price_cached_per_mtok is not None
        else profile.price_in_per_mtok
    )
    return (
        (input_tokens - cached) * profile.price_in_per_mtok
        + cached * cached_price
        + output_tokens * profile.price_out_per_mtok
    ) / 1_000_000


def usage_from_openai(raw: Any, profile: ModelProfile | None) -> Usage:
    """A :class:`Usage` of one call from an OpenAI ``CompletionUsage`` (or None)."""
    if raw is None:
        return Usage(calls=1)
    input_tokens = int(getattr(raw, "prompt_tokens", 0) or 0)
    output_tokens = int(getattr(raw, "completion_tokens", 0) or 0)
    details = getattr(raw, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached,
        cost_usd=cost_usd(
            profile, input_tokens=input_tokens, output_tokens=output_tokens, cached_tokens=cached
        ),
        calls=1,
    )


class UsageMeter:
    """Sums the usage of every call in one run, in total and per model.

    Feed it completions with :meth:`record`, or wrap a model with :meth:`wrap` so every
    call is recorded.
    """

    def __init__(self) -> None:
        self.total = Usage()
        self.by_model: dict[str, Usage] = {}

    def add(self, usage: Usage, *, model: str = "") -> None:
        """Add one call's (or a batch's) usage."""
        self.total = self.total + usage
        self.by_model[model] = self.by_model.get(model, Usage()) + usage

    def record(self, completion: Completion[Any]) -> Completion[Any]:
        """Add a completion's usage; returns the completion for chaining."""
        self.add(completion.usage, model=completion.model)
        return completion

    def wrap(self, llm: LLM) -> MeteredLLM:
        """A model that records every completion here."""
        return MeteredLLM(llm, self)

    @property
    def calls(self) -> int:
        return self.total.calls

    @property
    def cost_usd(self) -> float:
        return self.total.cost_usd

    @property
    def total_tokens(self) -> int:
        return self.total.total_tokens

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary for reports and episode archives."""
        return {
            **self.total.model_dump(),
            "total_tokens": self.total.total_tokens,
            "by_model": {name: u.model_dump() for name, u in self.by_model.items()},
        }


class MeteredLLM:
    """An :class:`LLM` that forwards to another and records each completion's usage."""

    def __init__(self, llm: LLM, meter: UsageMeter) -> None:
        self.llm = llm
        self.meter = meter

    @property
    def name(self) -> str:
        return self.llm.name

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
        """Forward the call, then record its usage."""
        completion = await self.llm.complete(
            messages,
            tools=tools,
            output=output,
            temperature=temperature,
            max_tokens=max_tokens,
            require_tool=require_tool,
        )
        return self.meter.record(completion)
