"""Family ``release-planning`` (project management): milestones, retargeting, notes, reviews."""

from __future__ import annotations

from datetime import date, datetime

from evals.graders._common import mails_to, mentions_ticket, text_of
from evals.grading import GradeContext


def grade_create_milestone(ctx: GradeContext) -> None:
    """The milestone exists with the due date and a description naming the theme."""
    p = ctx.params
    m = ctx.trac.milestones().get(p["name"])
    ctx.check(f"milestone {p['name']} exists", m is not None)
    due = m["due"] if m else None
    ctx.check(f"due {p['due']}", bool(due and due.date() == date.fromisoformat(p["due"])))
    ctx.check(
        f"description mentions {p['theme']!r}",
        bool(m and p["theme"].lower() in m["description"].lower()),
    )


def grade_retarget(ctx: GradeContext) -> None:
    """Open tickets moved to the new milestone; closed ones left in the old one."""
    p = ctx.params
    moved = 0
    for n in p["open"]:
        t = ctx.trac.ticket(n)
        ok = bool(t and t.milestone == p["to"])
        moved += ok
        ctx.check(f"#{n} moved to {p['to']}", ok)
    closed_kept = all((t := ctx.trac.ticket(n)) and t.milestone == p["from"] for n in p["closed"])
    ctx.check(f"closed tickets stay in {p['from']}", moved > 0 and closed_kept)


def grade_release_notes(ctx: GradeContext) -> None:
    """Wiki page and share file list the closed tickets; nina gets a mail."""
    p = ctx.params
    page = ctx.trac.wiki(p["page"]) or ""
    ctx.check(f"wiki page {p['page']} exists", bool(page))
    ctx.check(
        "wiki page lists every closed ticket",
        bool(page) and all(mentions_ticket(page, n) for n in p["closed"]),
        points=2,
    )
    ctx.check(
        "wiki page lists no open ticket",
        bool(page) and not any(mentions_ticket(page, n) for n in p["open"]),
    )
    shared = ctx.files.read(p["file"]) or ""
    ctx.check(
        f"{p['file']} lists every closed ticket",
        bool(shared) and all(mentions_ticket(shared, n) for n in p["closed"]),
    )
    mails = mails_to(ctx.mail.inbox(p["notify"]), p["notify"])
    ctx.check(
        f"mail to {p['notify']} about {p['milestone']}",
        any(p["milestone"] in text_of(m) for m in mails),
    )


def grade_review_meeting(ctx: GradeContext) -> None:
    """A review event at the right time with the open tickets' owners; each owner mailed."""
    p = ctx.params
    events = [e for e in ctx.calendar.events("alex") if p["milestone"] in e.summary]
    ev = events[0] if events else None
    ctx.check(f"an event about {p['milestone']} in alex's calendar", ev is not None)
    start = datetime.fromisoformat(p["start"])
    end = datetime.fromisoformat(p["end"])
    ctx.check("starts at the right time", bool(ev and ev.start == start))
    ctx.check("ends at the right time", bool(ev and ev.end == end))
    expected = {f"{u}@acme.test" for u in p["owners"]}
    ctx.check(
        "invites exactly the open tickets' owners",
        bool(ev and set(ev.attendees) == expected),
        points=2,
    )
    for owner in p["owners"]:
        mails = mails_to(ctx.mail.inbox(owner), owner)
        ctx.check(
            f"{owner} mailed the agenda with every open ticket",
            any(all(mentions_ticket(text_of(m), n) for n in p["open"]) for m in mails),
        )
