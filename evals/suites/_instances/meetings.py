"""Instances of the ``meetings`` family (admin): events in alex's calendar.

micro: book one meeting as described (write an .ics, upload it).
short: book the meeting a colleague's mail asks for, and reply with the date (read, write,
upload, reply).
"""

from __future__ import annotations

import random
from typing import Any

from evals.acme.company import employee
from evals.suites._instances._common import people, wording, workday
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "admin", "family": "meetings"}
SUMMARIES = (
    "Budget review", "Roadmap planning", "Design critique", "Hiring sync", "Vendor call",
    "Quarterly planning", "Incident review", "Customer demo prep", "Security audit kickoff",
    "Team lunch planning", "Pricing workshop", "Release retro",
)  # fmt: skip
ROOMS = ("Everest", "Kilimanjaro", "Denali", "Fuji", "Elbrus", "Aconcagua", "Matterhorn")


def _meeting(rng: random.Random) -> dict[str, Any]:
    day = workday(rng).isoformat()
    hour = rng.randint(9, 16)
    return {
        "summary": rng.choice(SUMMARIES),
        "day": day,
        "hour": hour,
        "start": f"{day}T{hour:02d}:00:00+00:00",
        "end": f"{day}T{hour + 1:02d}:00:00+00:00",
        "attendees": [e.user for e in people(rng, 2)],
        "location": rng.choice(ROOMS),
    }


def _params(m: dict[str, Any]) -> dict[str, Any]:
    return {k: m[k] for k in ("summary", "start", "end", "attendees", "location")}


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Book one meeting with time, room and attendees."""
    m = _meeting(rng)
    who = " and ".join(f"{a}@acme.test" for a in m["attendees"])
    body = wording(
        rng,
        [
            'Put a meeting "{summary}" in your calendar on {day} from {h:02d}:00 to '
            "{h1:02d}:00 UTC in room {room}, with {who} as attendees.",
            'Book "{summary}" for {day}, {h:02d}:00-{h1:02d}:00 UTC, room {room}. Invite {who}.',
            'Schedule a one-hour event called "{summary}" in your calendar: {day} at '
            "{h:02d}:00 UTC, location {room}, attendees {who}.",
        ],
        summary=m["summary"],
        day=m["day"],
        h=m["hour"],
        h1=m["hour"] + 1,
        room=m["location"],
        who=who,
    )
    return task(
        suite,
        name,
        title=rng.choice([f'Book "{m["summary"]}"', "Book a meeting"]),
        difficulty="micro",
        apps=["calendar"],
        body=body,
        grader="evals.graders.admin:grade_book_meeting",
        solution="evals.oracles.admin:solve_book_meeting",
        params=_params(m),
        max_steps=10,
        **FAMILY,
    )


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """Book what a colleague's mail asks for, then reply with the date."""
    m = _meeting(rng)
    requester = people(rng, 1, exclude=m["attendees"])[0]

    names = " and ".join(f"{employee(a).name} ({a}@acme.test)" for a in m["attendees"])
    mail = (
        f'Hi Alex,\n\ncould you book "{m["summary"]}" for me? {m["day"]}, '
        f"{m['hour']:02d}:00-{m['hour'] + 1:02d}:00 UTC, room {m['location']}, with {names}. "
        f"Please reply when it is in the calendar.\n\nThanks,\n{requester.name}\n"
    )
    body = wording(
        rng,
        [
            "{name} emailed you a meeting request. Read it in your mailbox, book the meeting in "
            "your calendar exactly as asked (title, time, room as the location, the people as "
            "attendees), then reply to the sender confirming the date (YYYY-MM-DD).",
            "There is a booking request from {name} in your inbox. Put the meeting in your "
            "calendar as described (title, time, room as location, attendees) and answer "
            "{name} with the date (YYYY-MM-DD) once it is booked.",
            "Handle {name}'s mail asking you to book a meeting: create the event in your "
            "calendar with the title, time, room (as location) and attendees it gives, and "
            "reply to {name} confirming the date as YYYY-MM-DD.",
        ],
        name=requester.name,
    )
    return task(
        suite,
        name,
        title=rng.choice(["Handle a meeting request", "Book a meeting from your inbox"]),
        difficulty="short",
        apps=["mail", "calendar"],
        body=body,
        grader="evals.graders.admin:grade_mail_request",
        solution="evals.oracles.admin:solve_mail_request",
        params={**_params(m), "requester": requester.user},
        seed={
            "mail": [
                {
                    "to": "alex",
                    "sender": requester.user,
                    "subject": f"Please book: {m['summary']}",
                    "body": mail,
                }
            ]
        },
        max_steps=20,
        **FAMILY,
    )


TIERS = {"micro": micro, "short": short}
