"""Instances of the ``ticket-triage`` family (engineering) on a generated Trac backlog.

micro: set one field of one ticket and save (one form).
short: close a duplicate with resolution and a comment naming the original (one form,
several fields).
"""

from __future__ import annotations

import random
from typing import Any

from evals.suites._instances._common import PRIORITIES, TICKET_POOL, backlog, ticket, wording
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "engineering", "family": "ticket-triage"}
_FIELDS = {
    "priority": ("blocker", "critical", "major", "minor", "trivial"),
    "component": ("backend", "frontend", "infrastructure", "qa"),
}
# Pairs of reports of one problem: (the original's summary, the duplicate's summary).
DUPLICATES: tuple[tuple[str, str, str], ...] = (
    ("Password reset email never arrives", "Reset password mail not delivered", "backend"),
    ("Export to CSV drops non-ASCII names", "CSV export mangles accented names", "backend"),
    ("Dashboard chart misaligned on Safari", "Safari: chart on the dashboard is shifted", "frontend"),
    ("Search returns deleted projects", "Deleted projects show up in search", "backend"),
    ("Nightly backup fails when the disk is full", "Backup job crashes on a full disk", "infrastructure"),
    ("Flaky test test_checkout_total", "test_checkout_total fails at random", "qa"),
    ("Mobile menu does not close after a tap", "Menu stays open on phones after tapping", "frontend"),
    ("Invoice PDF shows the wrong VAT rate", "Wrong VAT percentage on invoice PDFs", "backend"),
)  # fmt: skip
_OWNERS = {"backend": "marco", "frontend": "sofia", "infrastructure": "sam", "qa": "kenji"}


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Change one field of one ticket."""
    tickets = backlog(rng, rng.randint(6, 14))
    field = rng.choice(sorted(_FIELDS))
    number = rng.randrange(1, len(tickets) + 1)
    current = tickets[number - 1][field]
    value = rng.choice([v for v in _FIELDS[field] if v != current])
    body = wording(
        rng,
        [
            "In Trac, set the {field} of ticket #{n} to `{value}` and save the ticket. Change "
            "nothing else.",
            "Ticket #{n} in Trac has the wrong {field}: it should be `{value}`. Fix it.",
            "Please change ticket #{n}'s {field} in Trac to `{value}`.",
        ],
        field=field,
        n=number,
        value=value,
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Set the {field} of #{number}", f"Update ticket #{number}"]),
        difficulty="micro",
        apps=["trac"],
        body=body,
        grader="evals.graders.triage:grade_set_field",
        solution="evals.oracles.triage:solve_set_field",
        params={"ticket": number, "field": field, "value": value, "was": current},
        seed={"trac": {"tickets": tickets}},
        max_steps=10,
        **FAMILY,
    )


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Close a duplicate ticket with resolution and a comment; leave the original open."""
    first, second, component = rng.choice(DUPLICATES)
    others = [t for t in TICKET_POOL if t[0] not in (first, second)]
    tickets = [ticket(rng, *t) for t in rng.sample(others, rng.randint(5, 12))]
    original = rng.randrange(0, len(tickets) // 2 + 1)
    tickets.insert(original, ticket(rng, first, component, _OWNERS[component]))
    dup = rng.randrange(original + 1, len(tickets) + 1)
    tickets.insert(dup, {**ticket(rng, second, component, ""), "priority": rng.choice(PRIORITIES)})
    o, d = original + 1, dup + 1
    body = wording(
        rng,
        [
            "Ticket #{d} in Trac reports the same problem as ticket #{o}. Close #{d} with the "
            "resolution `duplicate` and a comment that says which ticket it duplicates (write "
            "it as `#{o}`). Leave #{o} as it is.",
            "#{d} is a duplicate of #{o} in Trac. Resolve #{d} as `duplicate`, with a comment "
            "pointing to `#{o}`; do not touch #{o}.",
            "Kenji noticed that Trac ticket #{d} describes the same bug as #{o}. Close #{d} "
            "(resolution `duplicate`) and comment which ticket it duplicates, as `#{o}`. #{o} "
            "stays open.",
        ],
        d=d,
        o=o,
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Close duplicate ticket #{d}", f"Ticket #{d} duplicates #{o}"]),
        difficulty="short",
        apps=["trac"],
        body=body,
        grader="evals.graders.triage:grade_close_duplicate",
        solution="evals.oracles.triage:solve_close_duplicate",
        params={"dup": d, "original": o},
        seed={"trac": {"tickets": tickets}},
        max_steps=20,
        **FAMILY,
    )


TIERS = {"micro": micro, "short": short}
