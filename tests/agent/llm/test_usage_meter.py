"""Usage and cost accounting per call and per run."""

from __future__ import annotations

import pytest

from agent.config import ModelProfile
from agent.llm import Completion, Message, ScriptedLLM, Usage, UsageMeter, cost_usd


def test_cost_uses_cached_price_when_set() -> None:
    p = ModelProfile(model="m", price_in_per_mtok=2.0, price_out_per_mtok=8.0)
    assert cost_usd(p, input_tokens=1_000_000, output_tokens=0) == pytest.approx(2.0)
    assert cost_usd(p, input_tokens=1000, output_tokens=1000, cached_tokens=500) == pytest.approx(
        (1000 * 2 + 1000 * 8) / 1e6
    )
    p.price_cached_per_mtok = 0.5
    assert cost_usd(p, input_tokens=1000, output_tokens=0, cached_tokens=400) == pytest.approx(
        (600 * 2 + 400 * 0.5) / 1e6
    )
    assert cost_usd(None, input_tokens=5, output_tokens=5) == 0.0


async def test_meter_sums_a_run_per_model() -> None:
    meter = UsageMeter()
    meter.record(Completion(model="a", usage=Usage(input_tokens=10, output_tokens=5, calls=1)))
    meter.add(Usage(input_tokens=1, cached_tokens=1, cost_usd=0.5, calls=1), model="b")
    llm = meter.wrap(ScriptedLLM(["hello"], name="s"))
    assert llm.name == "s"
    await llm.complete([Message.user("hi")])
    assert meter.calls == 3 and set(meter.by_model) == {"a", "b", "s"}
    assert meter.total.input_tokens == 11 + meter.by_model["s"].input_tokens
    assert meter.cost_usd == pytest.approx(0.5)
    summary = meter.summary()
    assert summary["calls"] == 3 and summary["total_tokens"] == meter.total_tokens
