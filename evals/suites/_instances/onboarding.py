"""Instances of the ``onboarding`` family (HR): a generated new hire's form on the share.

micro: the new hire's Trac wiki page from the form (read, write the page).
short: the wiki page and an orientation event with the manager and HR (read, page, event).
"""

from __future__ import annotations

import random
from typing import Any

from evals.acme.company import EMPLOYEES
from evals.suites._instances._common import wording, workday
from evals.suites._spec import TaskSpec, task

FAMILY: dict[str, Any] = {"category": "hr", "family": "onboarding"}
FIRST = ("Jane", "Omar", "Lena", "Wei", "Ana", "Ravi", "Maya", "Tariq", "Ines", "Jonas", "Aiko")
LAST = ("Doe", "Haddad", "Fischer", "Zhang", "Souza", "Iyer", "Novak", "Okoro", "Berg", "Costa")
ROLES = (
    ("Data Analyst", "Finance"), ("Site Reliability Engineer", "Engineering"),
    ("Product Designer", "Product"), ("Payroll Specialist", "HR"),
    ("Backend Engineer", "Engineering"), ("IT Support Technician", "IT"),
    ("Accounts Payable Clerk", "Finance"), ("QA Analyst", "Engineering"),
)  # fmt: skip


def _hire(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form on the share and the grader's params."""
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    title, dept = rng.choice(ROLES)
    leads = [e for e in EMPLOYEES if e.department == dept and e.user not in ("bot", "alex")]
    manager = min(leads, key=lambda e: e.manager not in (None, "dana"))  # the department head
    start = workday(rng).isoformat()
    path = f"HR/{rng.choice(['new-hires', 'onboarding', 'forms'])}/{name.lower().replace(' ', '-')}.txt"
    content = (
        f"Name: {name}\nTitle: {title}\nDepartment: {dept}\n"
        f"Manager: {manager.name} ({manager.user})\nStart date: {start}\n"
    )
    params = {
        "file": path,
        "name": name,
        "title": title,
        "department": dept,
        "manager": manager.user,
        "start": start,
        "page": "People/" + name.replace(" ", ""),
    }
    return {"path": path, "content": content}, params


def micro(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """The new hire's people page."""
    form, p = _hire(rng)
    body = wording(
        rng,
        [
            "HR put the new hire form of {name} on the file share (`{file}`). Create the Trac "
            "wiki page `{page}` with their title, department, manager and start date (as "
            "YYYY-MM-DD).",
            "{name} is joining. From their form `{file}` on the file share, write the Trac "
            "wiki page `{page}` giving title, department, manager and start date (YYYY-MM-DD).",
            "Make a people page for {name} in the Trac wiki at `{page}`: title, department, "
            "manager and start date (YYYY-MM-DD), all taken from `{file}` on the file share.",
        ],
        **p,
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Wiki page for new hire {p['name']}", f"People page: {p['name']}"]),
        difficulty="micro",
        apps=["files", "trac"],
        body=body,
        grader="evals.graders.onboarding:grade_people_page",
        solution="evals.oracles.onboarding:solve_people_page",
        params=p,
        seed={"files": [form]},
        max_steps=10,
        **FAMILY,
    )


def short(rng: random.Random, suite: str, name: str) -> TaskSpec:
    """The people page and an orientation event on the start date."""
    form, p = _hire(rng)
    body = wording(
        rng,
        [
            "{name} joins Acme Corp; their form is on the file share at `{file}`. Create the "
            "Trac wiki page `{page}` with title, department, manager and start date "
            '(YYYY-MM-DD), and put an event "Orientation: {name}" in your calendar on the '
            "start date, 09:00-10:00 UTC, inviting their manager and olivia@acme.test.",
            "Prepare {name}'s first day from the form `{file}` (file share): a Trac wiki page "
            "`{page}` (title, department, manager, start date as YYYY-MM-DD) and a calendar "
            'event "Orientation: {name}" on the start date from 09:00 to 10:00 UTC with the '
            "manager and olivia@acme.test as attendees.",
        ],
        **p,
    )
    return task(
        suite,
        name,
        title=rng.choice([f"Prepare {p['name']}'s start", f"Onboard {p['name']}"]),
        difficulty="short",
        apps=["files", "trac", "calendar"],
        body=body,
        grader="evals.graders.onboarding:grade_page_and_orientation",
        solution="evals.oracles.onboarding:solve_page_and_orientation",
        params=p,
        seed={"files": [form]},
        max_steps=20,
        **FAMILY,
    )


TIERS = {"micro": micro, "short": short}
