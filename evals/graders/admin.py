"""Families ``meetings`` and ``it-support`` (admin): calendar bookings and access requests."""

from __future__ import annotations

from datetime import datetime

from evals.graders._common import mails_to, mentions_ticket, text_of
from evals.grading import GradeContext


def _event_checks(ctx: GradeContext, *, with_location: bool = True) -> None:
    p = ctx.params
    events = [e for e in ctx.calendar.events("alex") if p["summary"].lower() in e.summary.lower()]
    ev = events[0] if events else None
    ctx.check(f"event {p['summary']!r} in alex's calendar", ev is not None)
    ctx.check("right start", bool(ev and ev.start == datetime.fromisoformat(p["start"])))
    ctx.check("right end", bool(ev and ev.end == datetime.fromisoformat(p["end"])))
    want = {f"{u}@acme.test" for u in p["attendees"]}
    ctx.check("right attendees", bool(ev and want <= set(ev.attendees)))
    if with_location:
        ctx.check("right location", bool(ev and p["location"].lower() in ev.location.lower()))


def grade_book_meeting(ctx: GradeContext) -> None:
    """An event with summary, time, attendees and location."""
    _event_checks(ctx)


def grade_move_meeting(ctx: GradeContext) -> None:
    """The one existing event moved to the new time, same length, no copy left behind."""
    p = ctx.params
    events = [e for e in ctx.calendar.events("alex") if p["summary"].lower() in e.summary.lower()]
    new = datetime.fromisoformat(p["start"])
    moved = [e for e in events if e.start == new]
    ctx.check("event at the new time", bool(moved))
    ctx.check(
        "same length as before", bool(moved and moved[0].end == datetime.fromisoformat(p["end"]))
    )
    ctx.check("no copy left at the old time", bool(moved) and len(events) == 1)


def grade_mail_request(ctx: GradeContext) -> None:
    """Booked what the mail asked for, and replied to the requester."""
    _event_checks(ctx)
    p = ctx.params
    mails = mails_to(ctx.mail.inbox(p["requester"]), p["requester"])
    ctx.check(
        f"replied to {p['requester']} confirming the date",
        any(p["start"][:10] in text_of(m) for m in mails),
    )


def grade_chat_poll(ctx: GradeContext) -> None:
    """Asked each colleague, booked the slot all can make, mailed them."""
    p = ctx.params
    for user in p["attendees"]:
        ctx.check(f"asked {user} on chat", bool(ctx.chat.received(bot=user)))
    _event_checks(ctx, with_location=False)
    for user in p["attendees"]:
        mails = mails_to(ctx.mail.inbox(user), user)
        ctx.check(
            f"{user} mailed the chosen date", any(p["start"][:10] in text_of(m) for m in mails)
        )


def grade_access_request(ctx: GradeContext) -> None:
    """A ticket per access request, for sam; replies (and a chat to sam) with numbers."""
    p = ctx.params
    tickets = [t for t in ctx.trac.tickets() if t.id > p["existing_tickets"]]
    numbers: dict[str, int] = {}
    for req in p["requests"]:
        match = [
            t
            for t in tickets
            if req["system"].lower() in t.summary.lower()
            and req["name"].lower() in t.summary.lower()
        ]
        ok = bool(match) and match[0].component == "infrastructure" and match[0].owner == "sam"
        ctx.check(
            f"ticket for {req['name']}'s {req['system']} access, infrastructure/sam", ok, points=2
        )
        if match:
            numbers[req["user"]] = match[0].id
    ctx.check("no other new tickets", bool(tickets) and len(tickets) == len(p["requests"]))
    if p.get("reply"):
        for req in p["requests"]:
            n = numbers.get(req["user"])
            mails = mails_to(ctx.mail.inbox(req["user"]), req["user"])
            ctx.check(
                f"{req['user']} told the ticket number",
                n is not None and any(mentions_ticket(text_of(m), n) for m in mails),
            )
    if p.get("chat"):
        said = " ".join(ctx.chat.received(bot="sam"))
        ctx.check(
            "sam told every ticket number on chat",
            len(numbers) == len(p["requests"])
            and all(mentions_ticket(said, n) for n in numbers.values()),
        )


def grade_reply_reference(ctx: GradeContext) -> None:
    """A mail to the requester naming the system asked for and the reference."""
    p = ctx.params
    mails = [text_of(m) for m in mails_to(ctx.mail.inbox(p["requester"]), p["requester"])]
    ctx.check(f"replied to {p['requester']}", bool(mails))
    ctx.check("reply names the system", any(p["system"].lower() in m.lower() for m in mails))
    ctx.check(f"reply gives {p['ref']}", any(p["ref"] in m for m in mails))
