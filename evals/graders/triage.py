"""Family ``ticket-triage`` (engineering): duplicates, escalations, bug reports, QA checks."""

from __future__ import annotations

from evals.graders._common import mails_to, mentions_ticket, text_of
from evals.grading import GradeContext

PRIORITY_OF_SEVERITY = {"high": "critical", "medium": "major", "low": "minor"}


def grade_close_duplicate(ctx: GradeContext) -> None:
    """#dup closed as duplicate with a comment naming #original; #original left open."""
    dup, original = ctx.params["dup"], ctx.params["original"]
    t = ctx.trac.ticket(dup)
    o = ctx.trac.ticket(original)
    assert t is not None and o is not None
    ctx.check(f"#{dup} closed", t.status == "closed")
    ctx.check(f"#{dup} resolution is duplicate", t.resolution == "duplicate")
    ctx.check(
        f"a comment on #{dup} names #{original}",
        any(mentions_ticket(c, original) for c in t.comments),
    )
    # only meaningful once something was done: a null run must not earn it
    ctx.check(f"#{original} left open", t.status == "closed" and o.status != "closed")


def grade_escalate(ctx: GradeContext) -> None:
    """Priority and owner changed, with a comment."""
    p = ctx.params
    t = ctx.trac.ticket(p["ticket"])
    assert t is not None
    ctx.check(f"#{t.id} priority is {p['priority']}", t.priority == p["priority"])
    ctx.check(f"#{t.id} owned by {p['owner']}", t.owner == p["owner"])
    ctx.check(f"#{t.id} has a comment", any(c.strip() for c in t.comments))


def grade_bug_reports(ctx: GradeContext) -> None:
    """One ticket per report (summary, component, priority, owner); a mail listing them."""
    existing = ctx.params["existing_tickets"]
    new = [t for t in ctx.trac.tickets() if t.id > existing]
    found: list[int] = []
    for report in ctx.params["reports"]:
        match = [t for t in new if t.summary.strip().lower() == report["title"].lower()]
        ctx.check(f"ticket for {report['title']!r}", bool(match), points=2)
        t = match[0] if match else None
        if t:
            found.append(t.id)
        ctx.check(
            f"{report['title']!r}: component {report['component']}",
            bool(t and t.component == report["component"]),
        )
        expected = PRIORITY_OF_SEVERITY[report["severity"].lower()]
        ctx.check(f"{report['title']!r}: priority {expected}", bool(t and t.priority == expected))
        ctx.check(
            f"{report['title']!r}: owner {report['owner']}", bool(t and t.owner == report["owner"])
        )
    ctx.check("no extra tickets", len(new) == len(ctx.params["reports"]))
    notify = ctx.params["notify"]
    mails = mails_to(ctx.mail.inbox(notify), notify)
    ctx.check(
        f"a mail to {notify} lists every new ticket number",
        bool(found)
        and len(found) == len(ctx.params["reports"])
        and any(all(mentions_ticket(text_of(m), n) for n in found) for m in mails),
        points=2,
    )


def grade_qa_confirm(ctx: GradeContext) -> None:
    """Asked QA in chat about each ticket; closed the fixed ones, escalated the others."""
    qa = ctx.params["qa"]
    asked = ctx.chat.received(bot=qa)
    for item in ctx.params["tickets"]:
        n = item["id"]
        ctx.check(f"asked {qa} about #{n}", any(mentions_ticket(m, n) for m in asked))
        t = ctx.trac.ticket(n)
        assert t is not None
        if item["fixed"]:
            ok = t.status == "closed" and t.resolution == "fixed"
            ctx.check(f"#{n} closed as fixed", ok, points=2)
        else:
            ok = t.status != "closed" and t.priority == "critical"
            ctx.check(f"#{n} open and critical", ok, points=2)
        ctx.check(f"#{n} has a comment", any(c.strip() for c in t.comments))


def grade_set_field(ctx: GradeContext) -> None:
    """One field of one ticket changed to the value asked for."""
    p = ctx.params
    t = ctx.trac.ticket(p["ticket"])
    assert t is not None
    ctx.check(f"#{t.id} {p['field']} is {p['value']}", getattr(t, p["field"]) == p["value"], 2)
