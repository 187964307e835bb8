"""What the instance generators share: the seeded random source, wordings, people, a backlog.

Every choice an instance makes goes through one :class:`random.Random` seeded from
``family/tier/seed`` (string seeding is stable across runs and platforms), so the same seed
always yields the same instance and another seed another one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from evals.acme.company import EMPLOYEES, Employee

COLLEAGUES: tuple[Employee, ...] = tuple(e for e in EMPLOYEES if e.user not in ("alex", "bot"))
"""People a task may name (never the agent itself or the automation account)."""


def rng_for(family: str, tier: str, seed: int) -> random.Random:
    """The random source of one instance."""
    return random.Random(f"{family}/{tier}/{seed}")


def instance_name(family: str, tier: str, seed: int) -> str:
    """The task folder name of an instance, e.g. ``expenses-micro-0007``."""
    return f"{family}-{tier}-{seed:04d}"


def wording(rng: random.Random, templates: Sequence[str], **values: Any) -> str:
    """One of several phrasings of the same request, filled with the instance's values."""
    return rng.choice(templates).format(**values)


def people(rng: random.Random, k: int, *, exclude: Sequence[str] = ()) -> list[Employee]:
    """``k`` distinct colleagues in a random order."""
    pool = [e for e in COLLEAGUES if e.user not in exclude]
    return rng.sample(pool, k)


def workday(rng: random.Random, first: date = date(2026, 11, 17), days: int = 21) -> date:
    """A weekday after "today" (Monday 2026-11-16)."""
    while True:
        day = first + timedelta(days=rng.randrange(days))
        if day.weekday() < 5:
            return day


# Tickets a generated backlog draws from: (summary, component, owner).
TICKET_POOL: tuple[tuple[str, str, str], ...] = (
    ("Login page times out under load", "backend", "marco"),
    ("Dashboard chart misaligned on Safari", "frontend", "sofia"),
    ("Nightly backup job fails when the disk is full", "infrastructure", "sam"),
    ("Add dark mode to the settings page", "frontend", "sofia"),
    ("Flaky test test_checkout_total", "qa", "kenji"),
    ("Upgrade PostgreSQL to 16", "infrastructure", "sam"),
    ("Search returns deleted projects", "backend", "marco"),
    ("Chart tooltip shows NaN for empty series", "frontend", "sofia"),
    ("Checkout total has a rounding error", "backend", "marco"),
    ("Session cookie missing the Secure flag", "backend", "marco"),
    ("Onboarding wizard skips the team step", "frontend", "sofia"),
    ("Invoice PDF shows the wrong VAT rate", "backend", "marco"),
    ("Profile avatar upload spins forever", "frontend", "sofia"),
    ("Disk usage alert emails are sent twice", "infrastructure", "sam"),
    ("Mobile menu does not close after a tap", "frontend", "sofia"),
    ("API returns 500 for an empty search query", "backend", "marco"),
    ("Staging certificate expires in 5 days", "infrastructure", "sam"),
    ("Date picker ignores the week start setting", "frontend", "sofia"),
    ("Order sync job duplicates refunds", "backend", "marco"),
    ("Regression suite takes over two hours", "qa", "kenji"),
    ("Log rotation deletes current logs", "infrastructure", "sam"),
    ("Bulk import stops at 1000 rows", "backend", "marco"),
    ("Smoke tests do not run on release branches", "qa", "kenji"),
    ("Settings page forgets the chosen language", "frontend", "sofia"),
)
PRIORITIES = ("critical", "major", "minor")


def ticket(rng: random.Random, summary: str, component: str, owner: str) -> dict[str, Any]:
    """One seeded ticket with a random priority and reporter."""
    return {
        "summary": summary,
        "component": component,
        "owner": owner,
        "priority": rng.choice(PRIORITIES),
        "reporter": rng.choice(["dana", "nina", "kenji", "luis", "priya"]),
    }


def backlog(rng: random.Random, size: int) -> list[dict[str, Any]]:
    """A backlog of ``size`` tickets drawn from :data:`TICKET_POOL` (ids are positions + 1)."""
    return [ticket(rng, *t) for t in rng.sample(TICKET_POOL, size)]
