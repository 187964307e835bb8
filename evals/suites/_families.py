"""The task families of Acme Corp and their instances in each suite.

Each ``family_*`` function returns the specs of related tasks (same apps and skills, different
data) so that experience transfers within a family; ``acme-transfer`` gets further
instances never used for learning, and ``smoke`` a few short ones on the cheapest apps.
"""

from __future__ import annotations

from typing import Any

from evals.suites._spec import TaskSpec, task

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
def family_triage() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "engineering", "family": "ticket-triage"}
    for suite, name, dup, original in (
        ("smoke", "close-duplicate", 5, 2),
        ("acme", "triage-duplicate-safari", 13, 3),
        ("acme-transfer", "triage-duplicate-csv", 14, 4),
    ):
        specs.append(
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
            "acme-transfer",
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
        specs.append(
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
        specs.append(
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
        specs.append(
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
                params={
                    "qa": "kenji",
                    "tickets": [{"id": n, "fixed": f} for n, f in verdicts.items()],
                },
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
        )
    return specs


# --------------------------------------------------------------------------------------
# release-planning (project management)
# --------------------------------------------------------------------------------------
def _milestone_backlog(milestone: str, closed: list[int], open_: list[int]) -> list[dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for n in closed:
        changes[f"t{n}"] = {"milestone": milestone, "status": "closed", "resolution": "fixed"}
    for n in open_:
        changes[f"t{n}"] = {"milestone": milestone}
    return backlog(**changes)


def family_release() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "project-management", "family": "release-planning"}
    for suite, name, ms, due, theme in (
        ("smoke", "create-milestone", "v2.5", "2026-12-18", "billing"),
        ("acme", "release-milestone-v3", "v3.0", "2027-01-29", "new dashboard"),
        ("acme-transfer", "release-milestone-hotfix", "v2.4.1", "2026-11-20", "security fixes"),
        ("acme-transfer", "release-milestone-q1", "2027-Q1", "2027-03-31", "mobile app"),
    ):
        specs.append(
            task(
                suite,
                name,
                title=f"Create milestone {ms}",
                difficulty="short",
                apps=["trac"],
                body=(
                    f"Create a Trac milestone named `{ms}` due on {due}, with a description that "
                    f'says its theme is "{theme}".'
                ),
                grader="evals.graders.release:grade_create_milestone",
                solution="evals.oracles.release:solve_create_milestone",
                params={"name": ms, "due": due, "theme": theme, "description": f"Theme: {theme}."},
                seed={"trac": {"tickets": backlog()}},
                **fam,
            )
        )
    for suite, name, src, dst, closed, open_ in (
        ("acme", "release-retarget-sprint", "Sprint 46", "Sprint 47", [1, 6], [3, 7, 11]),
        ("acme-transfer", "release-retarget-v24", "v2.4", "v2.5", [2, 9], [4, 10, 16]),
    ):
        tickets = _milestone_backlog(src, closed, open_)
        specs.append(
            task(
                suite,
                name,
                title=f"Move open tickets from {src} to {dst}",
                difficulty="short",
                apps=["trac"],
                body=(
                    f"Milestone `{src}` is over. Move every ticket of `{src}` that is still open to "
                    f"milestone `{dst}`. Closed tickets stay in `{src}`."
                ),
                grader="evals.graders.release:grade_retarget",
                solution="evals.oracles.release:solve_retarget",
                params={"from": src, "to": dst, "open": open_, "closed": closed},
                seed={
                    "trac": {
                        "tickets": tickets,
                        "milestones": [
                            {"name": src, "due": "2026-11-13"},
                            {"name": dst, "due": "2026-11-27"},
                        ],
                    }
                },
                **fam,
            )
        )
    for suite, name, ms, closed, open_, notify in (
        ("acme", "release-notes-v23", "v2.3", [1, 2, 8, 12], [4, 11], "nina"),
        ("acme", "release-notes-v22", "v2.2", [3, 6, 9], [15], "priya"),
        ("acme-transfer", "release-notes-v21", "v2.1", [5, 7, 10, 13, 14], [16], "nina"),
    ):
        page = f"ReleaseNotes/{ms}"
        file = f"Shared/release-notes-{ms}.txt"
        specs.append(
            task(
                suite,
                name,
                title=f"Publish the release notes of {ms}",
                difficulty="long",
                apps=["trac", "files", "mail"],
                body=(
                    f"Release {ms} shipped. Write the release notes: create the Trac wiki page "
                    f"`{page}` listing every closed ticket of milestone `{ms}` (each as `#N` with its "
                    f"summary; open tickets must not appear), upload the same list as `{file}` to the "
                    f"file share, and email {notify}@acme.test that the notes for {ms} are published."
                ),
                grader="evals.graders.release:grade_release_notes",
                solution="evals.oracles.release:solve_release_notes",
                params={
                    "milestone": ms,
                    "closed": closed,
                    "open": open_,
                    "page": page,
                    "file": file,
                    "notify": notify,
                },
                seed={
                    "trac": {
                        "tickets": _milestone_backlog(ms, closed, open_),
                        "milestones": [{"name": ms, "due": "2026-11-13"}],
                    }
                },
                **fam,
            )
        )
    for suite, name, ms, due, open_, closed in (
        ("acme", "release-review-v24", "v2.4", "2026-11-27", [3, 4, 6, 9], [1]),
        ("acme-transfer", "release-review-v25", "v2.5", "2026-12-04", [7, 8, 9], [2]),
    ):
        tickets = _milestone_backlog(ms, closed, open_)
        owners = sorted({tickets[n - 1].get("owner", "") for n in open_} - {""})
        day = int(due[-2:]) - 1
        start = f"{due[:-2]}{day:02d}T15:00:00+00:00"
        end = f"{due[:-2]}{day:02d}T16:00:00+00:00"
        specs.append(
            task(
                suite,
                name,
                title=f"Schedule the {ms} release review",
                difficulty="long",
                apps=["trac", "calendar", "mail"],
                body=(
                    f'Milestone `{ms}` is due on {due}. Put a one-hour event "{ms} release review" '
                    f"in your calendar on the day before the due date, 15:00-16:00 UTC, with the "
                    f"owners of the milestone's open tickets as attendees (and nobody else). Then "
                    f"email those owners the agenda: every open ticket of `{ms}`, each as `#N`."
                ),
                grader="evals.graders.release:grade_review_meeting",
                solution="evals.oracles.release:solve_review_meeting",
                params={
                    "milestone": ms,
                    "open": open_,
                    "owners": owners,
                    "start": start,
                    "end": end,
                },
                seed={"trac": {"tickets": tickets, "milestones": [{"name": ms, "due": due}]}},
                **fam,
            )
        )
    return specs


# --------------------------------------------------------------------------------------
# onboarding (HR)
# --------------------------------------------------------------------------------------
NEW_HIRES = {
    "jane": ("Jane Doe", "Data Analyst", "Finance", "rachel", "2026-11-23"),
    "omar": ("Omar Haddad", "Site Reliability Engineer", "Engineering", "priya", "2026-11-30"),
    "lena": ("Lena Fischer", "Product Designer", "Product", "nina", "2026-12-01"),
    "wei": ("Wei Zhang", "Payroll Specialist", "HR", "olivia", "2026-12-07"),
    "ana": ("Ana Souza", "Backend Engineer", "Engineering", "priya", "2026-11-25"),
    "ravi": ("Ravi Iyer", "IT Support Technician", "IT", "sam", "2026-12-02"),
}


def _hire_file(key: str, *, with_start: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    from evals.acme.company import employee

    name, title, dept, manager, start = NEW_HIRES[key]
    path = f"HR/new-hires/{name.lower().replace(' ', '-')}.txt"
    content = (
        f"Name: {name}\nTitle: {title}\nDepartment: {dept}\n"
        f"Manager: {employee(manager).name} ({manager})\n"
    )
    if with_start:
        content += f"Start date: {start}\n"
    params = {
        "file": path,
        "name": name,
        "title": title,
        "department": dept,
        "manager": manager,
        "start": start,
        "page": "People/" + name.replace(" ", ""),
    }
    return {"path": path, "content": content}, params


def family_onboarding() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "hr", "family": "onboarding"}
    for suite, name, key in (
        ("smoke", "people-page", "jane"),
        ("acme", "onboarding-page-omar", "omar"),
        ("acme-transfer", "onboarding-page-lena", "lena"),
        ("acme-transfer", "onboarding-page-wei", "wei"),
    ):
        file, params = _hire_file(key)
        specs.append(
            task(
                suite,
                name,
                title=f"Wiki page for new hire {params['name']}",
                difficulty="short",
                apps=["files", "trac"],
                body=(
                    f"HR put the new hire form of {params['name']} on the file share "
                    f"(`{params['file']}`). Create the Trac wiki page `{params['page']}` with their "
                    f"title, department, manager and start date (as YYYY-MM-DD)."
                ),
                grader="evals.graders.onboarding:grade_people_page",
                solution="evals.oracles.onboarding:solve_people_page",
                params=params,
                seed={"files": [file]},
                **fam,
            )
        )
    for suite, name, key in (
        ("acme", "onboarding-full-ana", "ana"),
        ("acme", "onboarding-full-ravi", "ravi"),
        ("acme-transfer", "onboarding-full-jane", "jane"),
    ):
        file, params = _hire_file(key)
        specs.append(
            task(
                suite,
                name,
                title=f"Onboard {params['name']}",
                difficulty="long",
                apps=["files", "trac", "calendar", "mail"],
                body=(
                    f"{params['name']} joins Acme Corp; their form is on the file share at "
                    f"`{params['file']}`. Do the onboarding checklist:\n"
                    f"1. Create the Trac wiki page `{params['page']}` with title, department, manager "
                    f"and start date (YYYY-MM-DD).\n"
                    f'2. Create a Trac ticket "Laptop for {params["name"]}" in component '
                    f"`infrastructure`, owned by `sam`.\n"
                    f'3. Put an event "Orientation: {params["name"]}" in your calendar on the start '
                    f"date, 09:00-10:00 UTC, inviting their manager and olivia@acme.test.\n"
                    f"4. Email the manager that {params['name']} starts on that date (give the date "
                    f"as YYYY-MM-DD)."
                ),
                grader="evals.graders.onboarding:grade_full_onboarding",
                solution="evals.oracles.onboarding:solve_full_onboarding",
                params=params,
                seed={"files": [file], "trac": {"tickets": backlog()}},
                **fam,
            )
        )
    for suite, name, key in (
        ("acme", "onboarding-chat-omar", "omar"),
        ("acme-transfer", "onboarding-chat-lena", "lena"),
    ):
        file, params = _hire_file(key, with_start=False)
        first = params["name"].split()[0]
        specs.append(
            task(
                suite,
                name,
                title=f"Prepare {params['name']}'s first day",
                difficulty="long",
                apps=["files", "trac", "calendar", "chat"],
                body=(
                    f"The new hire form of {params['name']} (`{params['file']}` on the file share) "
                    f"lacks the start date. Ask Tom (recruiter, tom@acme.test) on chat for it. Then "
                    f"create the Trac wiki page `{params['page']}` with title, department, manager and "
                    f'start date (YYYY-MM-DD), and put an event "Orientation: {params["name"]}" in '
                    f"your calendar on the start date, 09:00-10:00 UTC, inviting their manager and "
                    f"olivia@acme.test."
                ),
                grader="evals.graders.onboarding:grade_onboarding_chat",
                solution="evals.oracles.onboarding:solve_onboarding_chat",
                params=params,
                seed={
                    "files": [file],
                    "bots": [
                        {
                            "user": "tom",
                            "rules": [
                                {
                                    "match": first,
                                    "reply": f"{params['name']} starts on {params['start']}.",
                                }
                            ],
                            "default_reply": "Whose start date do you need?",
                        }
                    ],
                },
                **fam,
            )
        )
    return specs


# --------------------------------------------------------------------------------------
# expenses (finance) and sales-report (data analysis)
# --------------------------------------------------------------------------------------
def _csv_seed(path: str, generator: str, seed: int, rows: int) -> dict[str, Any]:
    return {"path": path, "generate": generator, "args": {"seed": seed, "rows": rows}}


def family_expenses() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "finance", "family": "expenses"}
    for suite, name, seed, by in (
        ("smoke", "expense-totals", 1, "department"),
        ("acme", "expenses-by-department", 2, "department"),
        ("acme-transfer", "expenses-by-category", 3, "category"),
        ("acme-transfer", "expenses-by-employee", 4, "employee"),
    ):
        source = f"Finance/expenses-{2026}-10-{seed}.csv"
        specs.append(
            task(
                suite,
                name,
                title=f"Total the October expenses by {by}",
                difficulty="short",
                apps=["files"],
                body=(
                    f"The October expense claims are on the file share as `{source}`. Write "
                    f"`totals.csv` in your workspace with the header `{by},total` and one row per "
                    f"{by} giving the sum of `amount` (two decimals)."
                ),
                grader="evals.graders.finance:grade_expense_totals",
                solution="evals.oracles.finance:solve_expense_totals",
                params={
                    "source": source,
                    "seed": seed,
                    "rows": 24,
                    "by": by,
                    "output": "totals.csv",
                },
                seed={"files": [_csv_seed(source, "expenses_csv", seed, 24)]},
                **fam,
            )
        )
    for suite, name, seed in (("acme", "expenses-largest-claim", 5),):
        source = "Finance/expenses-2026-10.csv"
        specs.append(
            task(
                suite,
                name,
                title="Find the largest expense claim",
                difficulty="short",
                apps=["files"],
                body=(
                    f"In `{source}` on the file share, find the expense claim with the largest "
                    "amount. Write its id and amount (two decimals) into `answer.txt` in your "
                    "workspace, e.g. `EXP-00001 123.45`."
                ),
                grader="evals.graders.finance:grade_largest_claim",
                solution="evals.oracles.finance:solve_largest_claim",
                params={"source": source, "seed": seed, "rows": 30, "output": "answer.txt"},
                seed={"files": [_csv_seed(source, "expenses_csv", seed, 30)]},
                **fam,
            )
        )
    for suite, name, seed, limit in (
        ("acme", "expenses-over-limit-500", 6, 500),
        ("acme", "expenses-over-limit-700", 7, 700),
        ("acme-transfer", "expenses-over-limit-600", 8, 600),
    ):
        source = "Finance/expenses-2026-10.csv"
        specs.append(
            task(
                suite,
                name,
                title=f"Flag expense claims over {limit}",
                difficulty="long",
                apps=["files", "trac", "mail"],
                body=(
                    f"Policy: every expense claim above {limit} needs a review. In `{source}` on the "
                    f"file share, find the claims with `amount` above {limit}. For each, create a Trac "
                    f'ticket "Review expense <id>" (e.g. "Review expense EXP-00001") in component '
                    f"`finance`, owned by `rachel`. Then email rachel@acme.test how many claims you "
                    f"flagged and their total amount (two decimals)."
                ),
                grader="evals.graders.finance:grade_over_limit",
                solution="evals.oracles.finance:solve_over_limit",
                params={
                    "source": source,
                    "seed": seed,
                    "rows": 24,
                    "limit": limit,
                    "existing_tickets": len(BACKLOG),
                },
                seed={
                    "files": [_csv_seed(source, "expenses_csv", seed, 24)],
                    "trac": {"tickets": backlog()},
                },
                **fam,
            )
        )
    for suite, name, seed in (
        ("acme", "expenses-category-report", 9),
        ("acme-transfer", "expenses-category-report-nov", 10),
    ):
        source = "Finance/expenses-2026-10.csv"
        file = "Finance/reports/category-totals.csv"
        specs.append(
            task(
                suite,
                name,
                title="Report expenses by category",
                difficulty="long",
                apps=["files", "trac", "mail"],
                body=(
                    f"Using `{source}` from the file share, total the `amount` per `category`. Upload "
                    f"the totals as `{file}` (header `category,total`, two decimals) to the share, "
                    f"publish them as a table on the Trac wiki page `Finance/ExpensesByCategory`, and "
                    f"email rachel@acme.test which category is the largest."
                ),
                grader="evals.graders.finance:grade_category_report",
                solution="evals.oracles.finance:solve_category_report",
                params={
                    "source": source,
                    "seed": seed,
                    "rows": 24,
                    "file": file,
                    "page": "Finance/ExpensesByCategory",
                },
                seed={"files": [_csv_seed(source, "expenses_csv", seed, 24)]},
                **fam,
            )
        )
    return specs


def family_sales() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "data-analysis", "family": "sales-report"}
    for suite, name, seed, by in (
        ("acme", "sales-by-region", 1, "region"),
        ("acme", "sales-by-product", 2, "product"),
        ("acme-transfer", "sales-by-region-q3b", 3, "region"),
    ):
        source = "Shared/sales-q3.csv"
        specs.append(
            task(
                suite,
                name,
                title=f"Q3 revenue by {by}",
                difficulty="short",
                apps=["files"],
                body=(
                    f"`{source}` on the file share lists the Q3 sales. Write `revenue.csv` in your "
                    f"workspace with the header `{by},revenue` and one row per {by} giving the sum "
                    f"of `revenue` (two decimals)."
                ),
                grader="evals.graders.finance:grade_sales_totals",
                solution="evals.oracles.finance:solve_sales_totals",
                params={
                    "source": source,
                    "seed": seed,
                    "rows": 40,
                    "by": by,
                    "output": "revenue.csv",
                },
                seed={"files": [_csv_seed(source, "sales_csv", seed, 40)]},
                **fam,
            )
        )
    for suite, name, seed in (
        ("acme", "sales-top-product", 4),
        ("acme-transfer", "sales-top-product-b", 5),
    ):
        source = "Shared/sales-q3.csv"
        specs.append(
            task(
                suite,
                name,
                title="Best-selling product of Q3",
                difficulty="short",
                apps=["files"],
                body=(
                    f"From `{source}` on the file share, find the product with the highest total "
                    "revenue. Write its name and total revenue (two decimals) into `answer.txt` in "
                    "your workspace, e.g. `Widget 1234.50`."
                ),
                grader="evals.graders.finance:grade_top_product",
                solution="evals.oracles.finance:solve_top_product",
                params={"source": source, "seed": seed, "rows": 40, "output": "answer.txt"},
                seed={"files": [_csv_seed(source, "sales_csv", seed, 40)]},
                **fam,
            )
        )
    for suite, name, seed, notify in (
        ("acme", "sales-monthly-report", 6, "nina"),
        ("acme", "sales-monthly-report-dana", 7, "dana"),
        ("acme-transfer", "sales-monthly-report-b", 8, "nina"),
    ):
        source = "Shared/sales-q3.csv"
        file = "Shared/reports/q3-monthly.csv"
        specs.append(
            task(
                suite,
                name,
                title="Q3 sales by month",
                difficulty="long",
                apps=["files", "trac", "mail"],
                body=(
                    f"Using `{source}` from the file share, total the `revenue` per month (month as "
                    f"YYYY-MM from the `date` column). Upload the result as `{file}` (header "
                    f"`month,revenue`, two decimals), publish the same table on the Trac wiki page "
                    f"`Reports/Q3Sales`, and email {notify}@acme.test which month was best "
                    f"(as YYYY-MM)."
                ),
                grader="evals.graders.finance:grade_monthly_report",
                solution="evals.oracles.finance:solve_monthly_report",
                params={
                    "source": source,
                    "seed": seed,
                    "rows": 40,
                    "file": file,
                    "page": "Reports/Q3Sales",
                    "notify": notify,
                },
                seed={"files": [_csv_seed(source, "sales_csv", seed, 40)]},
                **fam,
            )
        )
    return specs


# --------------------------------------------------------------------------------------
# meetings and it-support (admin)
# --------------------------------------------------------------------------------------
def _iso(day: str, hour: int, minute: int = 0) -> str:
    return f"{day}T{hour:02d}:{minute:02d}:00+00:00"


def family_meetings() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "admin", "family": "meetings"}
    for suite, name, summary, day, hour, hours, attendees, location in (
        (
            "acme",
            "meetings-book-budget",
            "Budget review",
            "2026-11-19",
            14,
            1,
            ["rachel", "luis"],
            "Everest",
        ),
        (
            "acme-transfer",
            "meetings-book-design",
            "Design critique",
            "2026-11-18",
            10,
            2,
            ["sofia", "nina"],
            "Kilimanjaro",
        ),
        (
            "acme-transfer",
            "meetings-book-hiring",
            "Hiring sync",
            "2026-11-20",
            16,
            1,
            ["olivia", "tom"],
            "Denali",
        ),
    ):
        end = _iso(day, hour + hours)
        specs.append(
            task(
                suite,
                name,
                title=f'Book "{summary}"',
                difficulty="short",
                apps=["calendar"],
                body=(
                    f'Put a meeting "{summary}" in your calendar on {day} from {hour:02d}:00 to '
                    f"{hour + hours:02d}:00 UTC in room {location}, with "
                    + " and ".join(f"{a}@acme.test" for a in attendees)
                    + " as attendees."
                ),
                grader="evals.graders.admin:grade_book_meeting",
                solution="evals.oracles.admin:solve_book_meeting",
                params={
                    "summary": summary,
                    "start": _iso(day, hour),
                    "end": end,
                    "attendees": attendees,
                    "location": location,
                },
                **fam,
            )
        )
    for suite, name, summary, uid, old_day, new_day, hour, new_hour in (
        (
            "acme",
            "meetings-move-sync",
            "Weekly ops sync",
            "weekly-ops-sync",
            "2026-11-17",
            "2026-11-18",
            10,
            11,
        ),
        (
            "acme-transfer",
            "meetings-move-one-on-one",
            "1:1 Alex / Dana",
            "one-on-one-dana",
            "2026-11-19",
            "2026-11-20",
            9,
            13,
        ),
    ):
        specs.append(
            task(
                suite,
                name,
                title=f'Move "{summary}"',
                difficulty="short",
                apps=["calendar"],
                body=(
                    f'The event "{summary}" in your calendar ({old_day} {hour:02d}:00 UTC) must move to '
                    f"{new_day} at {new_hour:02d}:00 UTC, keeping its length. Change the existing "
                    f"event (it is `{uid}.ics` in your calendar) rather than adding a second one."
                ),
                grader="evals.graders.admin:grade_move_meeting",
                solution="evals.oracles.admin:solve_move_meeting",
                params={
                    "summary": summary,
                    "uid": uid,
                    "start": _iso(new_day, new_hour),
                    "end": _iso(new_day, new_hour + 1),
                    "attendees": ["dana"],
                },
                seed={
                    "calendar": [
                        {
                            "uid": uid,
                            "summary": summary,
                            "start": _iso(old_day, hour),
                            "end": _iso(old_day, hour + 1),
                            "attendees": ["dana"],
                        }
                    ]
                },
                **fam,
            )
        )
    for suite, name, summary, day, hour, attendees, location, requester in (
        (
            "acme",
            "meetings-mail-request-budget",
            "Budget review",
            "2026-11-19",
            14,
            ["rachel", "luis"],
            "Everest",
            "dana",
        ),
        (
            "acme",
            "meetings-mail-request-roadmap",
            "Roadmap planning",
            "2026-11-24",
            13,
            ["nina", "priya"],
            "Fuji",
            "dana",
        ),
        (
            "acme-transfer",
            "meetings-mail-request-audit",
            "Security audit kickoff",
            "2026-11-23",
            11,
            ["sam", "marco"],
            "Elbrus",
            "priya",
        ),
    ):
        from evals.acme.company import employee

        names = " and ".join(f"{employee(a).name} ({a}@acme.test)" for a in attendees)
        body = (
            f'Hi Alex,\n\ncould you book "{summary}" for me? {day}, {hour:02d}:00-{hour + 1:02d}:00 '
            f"UTC, room {location}, with {names}. Please reply when it is in the calendar.\n\n"
            f"Thanks,\n{employee(requester).name}\n"
        )
        specs.append(
            task(
                suite,
                name,
                title="Handle a meeting request from your inbox",
                difficulty="long",
                apps=["mail", "calendar"],
                body=(
                    f"{employee(requester).name} emailed you a meeting request. Read it in your mailbox, "
                    "book the meeting in your calendar exactly as asked (title, time, room as the "
                    "location, the people as attendees), then reply to the sender confirming the date "
                    "(YYYY-MM-DD)."
                ),
                grader="evals.graders.admin:grade_mail_request",
                solution="evals.oracles.admin:solve_mail_request",
                params={
                    "summary": summary,
                    "start": _iso(day, hour),
                    "end": _iso(day, hour + 1),
                    "attendees": attendees,
                    "location": location,
                    "requester": requester,
                },
                seed={
                    "mail": [
                        {
                            "to": "alex",
                            "sender": requester,
                            "subject": f"Please book: {summary}",
                            "body": body,
                        }
                    ]
                },
                **fam,
            )
        )
    for suite, name, summary, slots, free_a, free_b, people in (
        (
            "acme",
            "meetings-chat-poll-retro",
            "Sprint retro",
            ["2026-11-18 14:00", "2026-11-19 10:00", "2026-11-20 15:00"],
            ["2026-11-18 14:00", "2026-11-20 15:00"],
            ["2026-11-19 10:00", "2026-11-20 15:00"],
            ["priya", "nina"],
        ),
        (
            "acme-transfer",
            "meetings-chat-poll-offsite",
            "Offsite planning",
            ["2026-11-23 09:00", "2026-11-24 13:00", "2026-11-25 16:00"],
            ["2026-11-23 09:00", "2026-11-24 13:00"],
            ["2026-11-24 13:00", "2026-11-25 16:00"],
            ["olivia", "rachel"],
        ),
    ):
        common = sorted(set(free_a) & set(free_b))[0]
        day, hm = common.split()
        start = _iso(day, int(hm[:2]))
        end = _iso(day, int(hm[:2]) + 1)
        bots = [
            {
                "user": user,
                "rules": [],
                "default_reply": "I can make " + " and ".join(free) + " (UTC).",
            }
            for user, free in zip(people, (free_a, free_b), strict=True)
        ]
        specs.append(
            task(
                suite,
                name,
                title=f'Find a slot for "{summary}"',
                difficulty="long",
                apps=["chat", "calendar", "mail"],
                body=(
                    f'Book a one-hour "{summary}" with {people[0]}@acme.test and {people[1]}@acme.test. '
                    f"The candidate slots (UTC) are: {', '.join(slots)}. Ask each of them on chat which "
                    f"slots they can make, book the slot both can make in your calendar with both as "
                    f"attendees, and email both the chosen date (YYYY-MM-DD) and time."
                ),
                grader="evals.graders.admin:grade_chat_poll",
                solution="evals.oracles.admin:solve_chat_poll",
                params={
                    "summary": summary,
                    "slots": slots,
                    "start": start,
                    "end": end,
                    "attendees": people,
                },
                seed={"bots": bots},
                **fam,
            )
        )
    return specs


def family_it_support() -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    fam: dict[str, Any] = {"category": "admin", "family": "it-support"}
    from evals.acme.company import employee

    def request_mail(user: str, system: str) -> dict[str, Any]:
        return {
            "to": "alex",
            "sender": user,
            "subject": f"Access request: {system}",
            "body": f"Hi Alex,\n\nI need {system} access for my work. Can you arrange it?\n\n{employee(user).name}\n",
        }

    for suite, name, user, system in (
        ("acme", "it-access-vpn", "luis", "VPN"),
        ("acme-transfer", "it-access-gitlab", "nina", "GitLab"),
    ):
        req = {"user": user, "name": employee(user).name, "system": system}
        specs.append(
            task(
                suite,
                name,
                title="Turn an access request into a ticket",
                difficulty="short",
                apps=["mail", "trac"],
                body=(
                    "There is an access request in your mailbox. Create a Trac ticket for it with the "
                    'summary "<system> access for <full name>" (e.g. "Wiki access for Dana '
                    'Whitfield"), in component `infrastructure`, owned by `sam`.'
                ),
                grader="evals.graders.admin:grade_access_request",
                solution="evals.oracles.admin:solve_access_request",
                params={"requests": [req], "existing_tickets": len(BACKLOG)},
                seed={"mail": [request_mail(user, system)], "trac": {"tickets": backlog()}},
                **fam,
            )
        )
    for suite, name, reqs, chat in (
        (
            "acme",
            "it-access-batch",
            [("luis", "VPN"), ("sofia", "Figma"), ("tom", "Payroll system")],
            False,
        ),
        (
            "acme",
            "it-access-batch-chat",
            [("marco", "Production database"), ("olivia", "VPN")],
            True,
        ),
        (
            "acme-transfer",
            "it-access-batch-chat-b",
            [("kenji", "Staging servers"), ("rachel", "Bank portal"), ("nina", "Analytics")],
            True,
        ),
    ):
        requests = [{"user": u, "name": employee(u).name, "system": s} for u, s in reqs]
        extra = (
            " Finally, send Sam (sam@acme.test) one chat message listing all the new ticket "
            "numbers (as `#N`)."
            if chat
            else ""
        )
        specs.append(
            task(
                suite,
                name,
                title="Process the access requests in your inbox",
                difficulty="long",
                apps=["mail", "trac", *(["chat"] if chat else [])],
                body=(
                    "Several colleagues emailed you access requests. For each request, create a Trac "
                    'ticket with the summary "<system> access for <full name>" (e.g. "Wiki access '
                    'for Dana Whitfield"), in component `infrastructure`, owned by `sam`, and reply '
                    "to the requester by email with their ticket number (as `#N`)." + extra
                ),
                grader="evals.graders.admin:grade_access_request",
                solution="evals.oracles.admin:solve_access_request",
                params={
                    "requests": requests,
                    "existing_tickets": len(BACKLOG),
                    "reply": True,
                    "chat": chat,
                },
                seed={
                    "mail": [request_mail(u, s) for u, s in reqs],
                    "trac": {"tickets": backlog()},
                    "bots": [
                        {"user": "sam", "rules": [], "default_reply": "Thanks, I'll pick them up."}
                    ]
                    if chat
                    else [],
                },
                **fam,
            )
        )
    return specs


FAMILIES = (
    family_triage,
    family_release,
    family_onboarding,
    family_expenses,
    family_sales,
    family_meetings,
    family_it_support,
)
"""Every family, in the order their tasks are written."""


def all_tasks() -> list[TaskSpec]:
    """The specs of every family's tasks, in a fixed order."""
    return [spec for family in FAMILIES for spec in family()]
