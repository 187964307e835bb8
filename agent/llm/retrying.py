"""Bounded retries of transient provider faults with tenacity, and their statistics.

Exponential backoff with jitter; a server's ``Retry-After`` replaces the backoff (capped
by ``max_wait_s``); attempts are bounded by ``max_attempts`` and the sum of all waits of
one call by ``max_total_wait_s``. Every wait is recorded in :class:`RetryStats` so tests
and reports can check the bounds.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential,
)

from agent.config import RetrySettings

T = TypeVar("T")


@dataclass(frozen=True)
class Fault:
    """A transient fault: its kind (``rate_limit``, ``timeout``...) and any Retry-After."""

    kind: str
    retry_after: float | None = None


@dataclass
class RetryStats:
    """Counters of one client's requests, retries and waits (cumulative, all calls)."""

    calls: int = 0
    requests: int = 0
    retries: int = 0
    gave_up: int = 0
    reasks: int = 0
    total_wait_s: float = 0.0
    waits: list[float] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    max_attempts_in_call: int = 0
    max_wait_in_call_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy."""
        return {
            "calls": self.calls,
            "requests": self.requests,
            "retries": self.retries,
            "gave_up": self.gave_up,
            "reasks": self.reasks,
            "total_wait_s": round(self.total_wait_s, 4),
            "faults": dict(self.faults),
            "max_attempts_in_call": self.max_attempts_in_call,
            "max_wait_in_call_s": round(self.max_wait_in_call_s, 4),
        }


class RetriesExhausted(Exception):
    """Transient faults outlasted the budget; carries the last fault and the call's totals."""

    def __init__(self, fault: Fault, cause: BaseException, attempts: int, waited_s: float) -> None:
        self.fault = fault
        self.cause = cause
        self.attempts = attempts
        self.waited_s = waited_s
        super().__init__(f"{fault.kind} after {attempts} attempt(s), {waited_s:.2f}s waited")


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    settings: RetrySettings,
    classify: Callable[[BaseException], Fault | None],
    stats: RetryStats,
) -> T:
    """Run ``fn`` until it succeeds, retrying what ``classify`` calls transient.

    Raises :class:`RetriesExhausted` when the attempts or the wait budget run out; any
    exception ``classify`` does not recognise propagates at once.
    """
    backoff = wait_exponential(multiplier=settings.initial_wait_s, max=settings.max_wait_s)

    def remaining(state: RetryCallState) -> float:
        return settings.max_total_wait_s - state.idle_for

    def stop(state: RetryCallState) -> bool:
        return state.attempt_number >= settings.max_attempts or remaining(state) <= 1e-9

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        fault = classify(exc) if exc is not None else None
        if fault is not None and fault.retry_after is not None:
            chosen = min(fault.retry_after, settings.max_wait_s)
        else:
            base = backoff(state)
            chosen = base * (0.5 + random.random() / 2)  # "equal jitter": grows, never 0
        return max(0.0, min(chosen, remaining(state)))

    attempts = 0
    waited = 0.0

    def before_sleep(state: RetryCallState) -> None:
        nonlocal waited
        slept = state.upcoming_sleep
        waited += slept
        stats.retries += 1
        stats.waits.append(slept)
        stats.total_wait_s += slept

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        stats.requests += 1
        try:
            return await fn()
        except Exception as exc:
            fault = classify(exc)
            if fault is not None:
                stats.faults[fault.kind] += 1
            raise

    stats.calls += 1
    retrying = AsyncRetrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(lambda exc: classify(exc) is not None),
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return await retrying(attempt)
    except Exception as exc:
        fault = classify(exc)
        if fault is None:
            raise
        stats.gave_up += 1
        raise RetriesExhausted(fault, exc, attempts, waited) from exc
    finally:
        stats.max_attempts_in_call = max(stats.max_attempts_in_call, attempts)
        stats.max_wait_in_call_s = max(stats.max_wait_in_call_s, waited)
