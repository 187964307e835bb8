"""Instances of the ``it-support`` family (admin): access requests arriving by mail.

micro: reply to one request mail with the system and a reference (read, reply).
short: turn one request into a Trac ticket and reply with its number (read, ticket, reply).
"""

from __future__ import annotations

import random
from typing import Any

from evals.acme.company import Employee
from evals.suites._instances._common import backlog, people, wording
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "admin", "family": "it-support"}
SYSTEMS = (
    "VPN", "GitLab", "Figma", "Payroll system", "Production database", "Staging servers",
    "Bank portal", "Analytics", "Wiki", "CRM", "Build server", "Password manager",
)  # fmt: skip


def _request(rng: random.Random, user: Employee, system: str) -> dict[str, Any]:
    ask = rng.choice(
        [
            f"I need {system} access for my work. Can you arrange it?",
            f"could you get me access to {system}? I need it from this week on.",
            f"my team asked me to use {system}, but I have no account yet. Can you help?",
        ]
    )
    subject = rng.choice([f"Access request: {system}", f"{system} access", f"Need {system}"])
    return {
        "to": "alex",
        "sender": user.user,
        "subject": subject,
        "body": f"Hi Alex,\n\n{ask}\n\nThanks,\n{user.name}\n",
    }


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Reply to one access request with the system asked for and a reference."""
    user = people(rng, 1)[0]
    system = rng.choice(SYSTEMS)
    ref = f"REQ-{rng.randrange(1000, 10_000)}"
    body = wording(
        rng,
        [
            "There is an access request in your mailbox. Reply to its sender by email: say "
            "which system they asked for and that the request is logged as `{ref}`.",
            "Answer the access request waiting in your inbox: email the colleague who sent it, "
            "naming the system they want, and give them the reference `{ref}`.",
            "Someone emailed you asking for access to a system. Send them a reply that names "
            "that system and quotes the reference `{ref}`.",
        ],
        ref=ref,
    )
    return task(
        suite,
        name,
        title=rng.choice(["Answer an access request", "Reply to a colleague's request"]),
        difficulty="micro",
        apps=["mail"],
        body=body,
        grader="evals.graders.admin:grade_reply_reference",
        solution="evals.oracles.admin:solve_reply_reference",
        params={"requester": user.user, "system": system, "ref": ref},
        seed={"mail": [_request(rng, user, system)]},
        max_steps=10,
        **FAMILY,
    )


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """One access request: a ticket for sam, and a reply with the ticket number."""
    user = people(rng, 1, exclude=("sam",))[0]
    system = rng.choice(SYSTEMS)
    tickets = backlog(rng, rng.randint(4, 12))
    body = wording(
        rng,
        [
            "There is an access request in your mailbox. Create a Trac ticket for it with the "
            'summary "<system> access for <full name>" (e.g. "Wiki access for Dana '
            'Whitfield"), in component `infrastructure`, owned by `sam`, and reply to the '
            "requester by email with the ticket number (as `#N`).",
            'A colleague asked you for access by email. Open a Trac ticket titled "<system> '
            'access for <full name>" (like "Wiki access for Dana Whitfield"), component '
            "`infrastructure`, owner `sam`; then answer their mail with the new ticket's "
            "number written as `#N`.",
            'Handle the access request in your inbox: file it in Trac as "<system> access '
            'for <full name>" (e.g. "Wiki access for Dana Whitfield") in component '
            "`infrastructure` for `sam`, and let the requester know the ticket number (`#N`) "
            "by email.",
        ],
    )
    req = {"user": user.user, "name": user.name, "system": system}
    return task(
        suite,
        name,
        title=rng.choice(["Turn an access request into a ticket", "File an access request"]),
        difficulty="short",
        apps=["mail", "trac"],
        body=body,
        grader="evals.graders.admin:grade_access_request",
        solution="evals.oracles.admin:solve_access_request",
        params={"requests": [req], "existing_tickets": len(tickets), "reply": True},
        seed={"mail": [_request(rng, user, system)], "trac": {"tickets": tickets}},
        max_steps=20,
        **FAMILY,
    )


TIERS = {"micro": micro, "short": short}
