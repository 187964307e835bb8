"""Oracle solutions of the ``meetings`` and ``it-support`` families."""

from __future__ import annotations

import re
from datetime import datetime

from evals.oracles.actions import Actions


async def _book(act: Actions, uid: str) -> None:
    p = act.params
    await act.calendar_add(
        uid,
        p["summary"],
        datetime.fromisoformat(p["start"]),
        datetime.fromisoformat(p["end"]),
        attendees=p["attendees"],
        location=p.get("location", ""),
    )


async def solve_book_meeting(act: Actions) -> None:
    await _book(act, "meeting-" + act.params["summary"].lower().replace(" ", "-"))


async def solve_move_meeting(act: Actions) -> None:
    # same UID: the PUT replaces the stored event instead of adding a second one
    await _book(act, act.params["uid"])


async def solve_mail_request(act: Actions) -> None:
    p = act.params
    inbox = await act.mail_inbox()
    assert any(p["summary"].lower() in m["body"].lower() + m["subject"].lower() for m in inbox)
    await _book(act, "req-" + p["summary"].lower().replace(" ", "-"))
    await act.mail_send(
        [f"{p['requester']}@acme.test"],
        f"Re: {p['summary']}",
        f"Booked: {p['summary']} on {p['start'][:10]} at {p['start'][11:16]} UTC.",
    )


async def solve_chat_poll(act: Actions) -> None:
    p = act.params
    free: list[set[str]] = []
    for user in p["attendees"]:
        reply = await act.chat_ask(
            user, "Which of these slots can you make: " + ", ".join(p["slots"]) + "?"
        )
        free.append(set(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", reply)))
    common = sorted(set.intersection(*free))
    assert common and p["start"].startswith(common[0].replace(" ", "T")), (common, p["start"])
    await _book(act, "poll-" + p["summary"].lower().replace(" ", "-"))
    await act.mail_send(
        [f"{u}@acme.test" for u in p["attendees"]],
        p["summary"],
        f"{p['summary']} is booked on {p['start'][:10]} at {p['start'][11:16]} UTC.",
    )


async def solve_access_request(act: Actions) -> None:
    p = act.params
    inbox = await act.mail_inbox()
    numbers = []
    for req in p["requests"]:
        assert any(req["system"].lower() in m["body"].lower() for m in inbox)
        n = await act.trac_new_ticket(
            summary=f"{req['system']} access for {req['name']}",
            component="infrastructure",
            owner="sam",
            type="task",
        )
        numbers.append(n)
        if p.get("reply"):
            await act.mail_send(
                [f"{req['user']}@acme.test"],
                f"Your {req['system']} access request",
                f"I opened ticket #{n} for your {req['system']} access; Sam will handle it.",
            )
    if p.get("chat"):
        await act.chat_ask(
            "sam", "New access tickets for you: " + ", ".join(f"#{n}" for n in numbers)
        )


async def solve_reply_reference(act: Actions) -> None:
    p = act.params
    inbox = await act.mail_inbox()
    request = next(m for m in inbox if p["system"].lower() in m["body"].lower())
    await act.mail_send(
        [f"{p['requester']}@acme.test"],
        f"Re: {request['subject']}",
        f"Your {p['system']} access request is logged as {p['ref']}.",
    )
