"""Family ``onboarding`` (HR): people pages, laptop tickets, orientation events, welcome mail."""

from __future__ import annotations

from datetime import UTC, datetime, time

from evals.acme.company import employee
from evals.graders._common import mails_to, text_of
from evals.grading import GradeContext


def _page_checks(ctx: GradeContext) -> None:
    p = ctx.params
    page = ctx.trac.wiki(p["page"]) or ""
    ctx.check(f"wiki page {p['page']} exists", bool(page))
    low = page.lower()
    ctx.check("page gives the title", bool(page) and p["title"].lower() in low)
    ctx.check("page gives the department", bool(page) and p["department"].lower() in low)
    manager = employee(p["manager"])
    ctx.check(
        "page names the manager",
        bool(page) and (manager.name.lower() in low or f"{manager.user}" in low),
    )
    ctx.check("page gives the start date", bool(page) and p["start"] in page)


def grade_people_page(ctx: GradeContext) -> None:
    """The new hire's wiki page with title, department, manager and start date."""
    _page_checks(ctx)


def _orientation_checks(ctx: GradeContext) -> None:
    p = ctx.params
    events = [e for e in ctx.calendar.events("alex") if p["name"].lower() in e.summary.lower()]
    ev = events[0] if events else None
    ctx.check("orientation event in alex's calendar", ev is not None)
    day = datetime.fromisoformat(p["start"]).date()
    start = datetime.combine(day, time(9, 0), UTC)
    ctx.check(
        "orientation on the start date, 09:00-10:00 UTC",
        bool(ev and ev.start == start and ev.end and (ev.end - ev.start).seconds == 3600),
    )
    want = {f"{p['manager']}@acme.test", "olivia@acme.test"}
    ctx.check("manager and olivia invited", bool(ev and want <= set(ev.attendees)))


def grade_full_onboarding(ctx: GradeContext) -> None:
    """Page, laptop ticket, orientation event and welcome mail to the manager."""
    p = ctx.params
    _page_checks(ctx)
    tickets = [
        t
        for t in ctx.trac.tickets()
        if p["name"].lower() in t.summary.lower() and "laptop" in t.summary.lower()
    ]
    t = tickets[0] if tickets else None
    ctx.check("laptop ticket exists", t is not None)
    ctx.check(
        "laptop ticket: infrastructure, owned by sam",
        bool(t and t.component == "infrastructure" and t.owner == "sam"),
    )
    _orientation_checks(ctx)
    mails = mails_to(ctx.mail.inbox(p["manager"]), p["manager"])
    ctx.check(
        "manager mailed about the new hire and start date",
        any(p["name"].lower() in text_of(m).lower() and p["start"] in text_of(m) for m in mails),
    )


def grade_onboarding_chat(ctx: GradeContext) -> None:
    """Asked the recruiter on chat, then page and orientation with the date learned."""
    p = ctx.params
    asked = ctx.chat.received(bot="tom")
    ctx.check(
        "asked tom about the new hire",
        any(p["name"].split()[0].lower() in m.lower() for m in asked),
    )
    _page_checks(ctx)
    _orientation_checks(ctx)


def grade_page_and_orientation(ctx: GradeContext) -> None:
    """The people page and the orientation event on the start date."""
    _page_checks(ctx)
    _orientation_checks(ctx)
