"""The task families of Acme Corp and their instances in each suite.

Each ``family_*`` function registers related tasks (same apps and skills, different
data) so that experience transfers within a family; ``acme-transfer`` gets further
instances never used for learning, and ``smoke`` a few short ones on the cheapest apps.
"""

from __future__ import annotations

from typing import Any

from evals.suites._build import task

G = "evals.graders"
O = "evals.oracles"  # noqa: E741

# The engineering backlog every Trac task starts from (ticket ids are positions + 1).
BACKLOG: list[dict[str, Any]] = [
    {
        "summary": "Login page times out under load",
        "component": "backend",
        "priority": "critical",
        "owner": "marco",
    },
    {
        "summary": "Password reset email never arrives",
        "component": "backend",
        "owner": "marco",
        "status": "assigned",
    },
    {
        "summary": "Dashboard chart misaligned on Safari",
        "component": "frontend",
        "priority": "minor",
        "owner": "sofia",
    },
    {"summary": "Export to CSV drops non-ASCII names", "component": "backend", "owner": "marco"},
    {"summary": "Reset password mail not delivered", "component": "backend", "reporter": "nina"},
    {
        "summary": "Nightly backup job fails when the disk is full",
        "component": "infrastructure",
        "priority": "critical",
        "owner": "sam",
    },
    {
        "summary": "Add dark mode to the settings page",
        "type": "enhancement",
        "component": "frontend",
        "priority": "minor",
        "owner": "sofia",
    },
    {"summary": "Flaky test test_checkout_total", "component": "qa", "owner": "kenji"},
    {
        "summary": "Upgrade PostgreSQL to 16",
        "type": "task",
        "component": "infrastructure",
        "owner": "sam",
    },
    {"summary": "Search returns deleted projects", "component": "backend", "owner": "marco"},
    {
        "summary": "Chart tooltip shows NaN for empty series",
        "component": "frontend",
        "owner": "sofia",
    },
    {
        "summary": "Checkout total has a rounding error",
        "component": "backend",
        "priority": "critical",
        "owner": "marco",
    },
    {
        "summary": "Safari: dashboard chart is shifted to the right",
        "component": "frontend",
        "reporter": "kenji",
    },
    {"summary": "CSV export mangles accented names", "component": "backend", "reporter": "luis"},
    {
        "summary": "Session cookie missing the Secure flag",
        "component": "backend",
        "priority": "critical",
    },
    {"summary": "Onboarding wizard skips the team step", "component": "frontend"},
]


def backlog(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The backlog with per-ticket changes, keyed ``t<id>``."""
    out = []
    for i, t in enumerate(BACKLOG, start=1):
        out.append({**t, **changes.get(f"t{i}", {})})
    return out


# --------------------------------------------------------------------------------------
# ticket-triage (engineering)
# --------------------------------------------------------------------------------------
def family_triage() -> None:
    fam: dict[str, Any] = {"category": "engineering", "family": "ticket-triage"}
    for suite, name, dup, original in (
        ("smoke", "close-duplicate", 5, 2),
        ("acme", "triage-duplicate-safari", 13, 3),
        ("acme-transfer", "triage-duplicate-csv", 14, 4),
    ):
        task(
            suite,
            name,
            title=f"Close duplicate ticket #{dup}",
            difficulty="short",
            apps=["trac"],
            body=(
                f"Ticket #{dup} in Trac reports the same problem as ticket #{original}. Close "
                f"#{dup} with the resolution `duplicate` and a comment that says which ticket "
                f"it duplicates (write it as `#{original}`). Leave #{original} as it is."
            ),
            grader=f"{G}.triage:grade_close_duplicate",
            solution=f"{O}.triage:solve_close_duplicate",
            params={"dup": dup, "original": original},
            seed={"trac": {"tickets": backlog()}},
            **fam,
        )
    for suite, name, ticket, owner, priority, reason in (
        (
            "acme",
            "triage-escalate-cookie",
            15,
            "marco",
            "blocker",
            "Security issue found in the audit; needs a fix this week.",
        ),
        (
            "acme",
            "triage-escalate-wizard",
            16,
            "sofia",
            "critical",
            "Customers cannot finish onboarding.",
        ),
        (
            "acme-transfer",
            "triage-escalate-search",
            10,
            "sofia",
            "critical",
            "Deleted projects leak into search results for customers.",
        ),
    ):
        task(
            suite,
            name,
            title=f"Escalate ticket #{ticket}",
            difficulty="short",
            apps=["trac"],
            body=(
                f"Dana asked you to escalate Trac ticket #{ticket}: set its priority to "
                f"`{priority}`, assign it to `{owner}`, and add a comment with the reason: "
                f'"{reason}"'
            ),
            grader=f"{G}.triage:grade_escalate",
            solution=f"{O}.triage:solve_escalate",
            params={"ticket": ticket, "owner": owner, "priority": priority, "reason": reason},
            seed={"trac": {"tickets": backlog()}},
            **fam,
        )
    report_sets = {
        "a": [
            ("Invoice PDF shows the wrong VAT rate", "backend", "High", "marco"),
            ("Profile avatar upload spins forever", "frontend", "Medium", "sofia"),
            ("Disk usage alert emails are sent twice", "infrastructure", "Low", "sam"),
        ],
        "b": [
            ("Mobile menu does not close after a tap", "frontend", "Low", "sofia"),
            ("API returns 500 for an empty search query", "backend", "High", "marco"),
            ("Staging certificate expires in 5 days", "infrastructure", "High", "sam"),
        ],
        "c": [
            ("Date picker ignores the week start setting", "frontend", "Medium", "sofia"),
            ("Order sync job duplicates refunds", "backend", "High", "marco"),
            ("Regression suite takes over two hours", "qa", "Low", "kenji"),
        ],
        "d": [
            ("Password strength meter accepts 'password1'", "frontend", "High", "sofia"),
            ("Log rotation deletes current logs", "infrastructure", "Medium", "sam"),
            ("Bulk import stops at 1000 rows", "backend", "Medium", "marco"),
        ],
    }
    for suite, name, key, notify in (
        ("acme", "triage-bug-reports-billing", "a", "priya"),
        ("acme", "triage-bug-reports-api", "b", "priya"),
        ("acme", "triage-bug-reports-orders", "c", "kenji"),
        ("acme-transfer", "triage-bug-reports-security", "d", "priya"),
    ):
        reports = report_sets[key]
        files = []
        for i, (title, component, severity, _owner) in enumerate(reports, start=1):
            files.append(
                {
                    "path": f"Engineering/bug-reports/report-{i}.txt",
                    "content": (
                        f"Title: {title}\nComponent: {component.capitalize()}\n"
                        f"Severity: {severity}\nReported by: customer support\n\n"
                        f"Steps to reproduce are attached in the support system.\n"
                    ),
                }
            )
        task(
            suite,
            name,
            title="File tickets for new bug reports",
            difficulty="long",
            apps=["trac", "files", "mail"],
            body=(
                "Customer support left bug reports in the `Engineering/bug-reports/` folder of "
                "the file share. For each report, create a Trac ticket whose summary is exactly "
                "the report's title, with the report's component and a priority from its "
                "severity (High = `critical`, Medium = `major`, Low = `minor`), owned by the "
                "component's default owner (see the component list in Trac's admin pages: "
                "backend = marco, frontend = sofia, infrastructure = sam, qa = kenji). Then "
                f"email {notify}@acme.test one message listing the new ticket numbers "
                "(as `#N`)."
            ),
            grader=f"{G}.triage:grade_bug_reports",
            solution=f"{O}.triage:solve_bug_reports",
            params={
                "folder": "Engineering/bug-reports/",
                "existing_tickets": len(BACKLOG),
                "notify": notify,
                "reports": [
                    {"title": t, "component": c, "severity": s, "owner": o}
                    for t, c, s, o in reports
                ],
            },
            seed={"trac": {"tickets": backlog()}, "files": files},
            **fam,
        )
    qa_sets = {
        "acme": ("triage-qa-confirm", {8: True, 11: False, 12: True}),
        "acme-transfer": ("triage-qa-confirm-nightly", {3: False, 4: True, 10: True}),
    }
    for suite, (name, verdicts) in qa_sets.items():
        changes = {f"t{n}": {"keywords": "needs-qa"} for n in verdicts}
        rules = [
            {
                "match": rf"#{n}\b",
                "reply": (
                    f"#{n} is fixed in the nightly build, I could not reproduce it."
                    if fixed
                    else f"#{n} still reproduces on the nightly build, it is a real problem."
                ),
            }
            for n, fixed in verdicts.items()
        ]
        task(
            suite,
            name,
            title="Confirm tickets with QA",
            difficulty="long",
            apps=["trac", "chat"],
            body=(
                "Some open Trac tickets carry the keyword `needs-qa`. For each of them, ask "
                "Kenji (QA, `kenji@acme.test`) on chat whether it still reproduces, naming the "
                "ticket as `#N` in your message (one ticket per message). If Kenji says it is "
                "fixed, close the ticket with resolution `fixed`; if it still reproduces, set "
                "its priority to `critical` and keep it open. Either way, add a comment with "
                "Kenji's answer."
            ),
            grader=f"{G}.triage:grade_qa_confirm",
            solution=f"{O}.triage:solve_qa_confirm",
            params={"qa": "kenji", "tickets": [{"id": n, "fixed": f} for n, f in verdicts.items()]},
            seed={
                "trac": {"tickets": backlog(**changes)},
                "bots": [
                    {
                        "user": "kenji",
                        "rules": rules,
                        "default_reply": "Which ticket? Please write it as #N.",
                    }
                ],
            },
            **fam,
        )


def register_all() -> None:
    """Register every family."""
    family_triage()
