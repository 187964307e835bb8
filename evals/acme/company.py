"""The people of Acme Corp: one deterministic directory shared by every app.

Every employee has a Trac identity, a mailbox, a calendar and a chat account with the
same user name and password. The agent works as ``alex`` (Alex Kim, operations).
"""

from __future__ import annotations

from pydantic import BaseModel

DOMAIN = "acme.test"


class Employee(BaseModel):
    """One person in the company directory."""

    user: str
    name: str
    title: str
    department: str
    manager: str | None = None

    @property
    def email(self) -> str:
        """The person's mail address (also their chat JID)."""
        return f"{self.user}@{DOMAIN}"

    @property
    def password(self) -> str:
        """A deterministic password, written into task.md where the agent needs it."""
        return f"{self.user}-acme-2026"


EMPLOYEES: tuple[Employee, ...] = (
    Employee(
        user="alex",
        name="Alex Kim",
        title="Operations Associate",
        department="Operations",
        manager="dana",
    ),
    Employee(user="dana", name="Dana Whitfield", title="COO", department="Operations"),
    Employee(
        user="priya",
        name="Priya Raman",
        title="Engineering Manager",
        department="Engineering",
        manager="dana",
    ),
    Employee(
        user="marco",
        name="Marco Bellini",
        title="Backend Engineer",
        department="Engineering",
        manager="priya",
    ),
    Employee(
        user="sofia",
        name="Sofia Lindqvist",
        title="Frontend Engineer",
        department="Engineering",
        manager="priya",
    ),
    Employee(
        user="kenji",
        name="Kenji Watanabe",
        title="QA Engineer",
        department="Engineering",
        manager="priya",
    ),
    Employee(
        user="olivia", name="Olivia Grant", title="HR Manager", department="HR", manager="dana"
    ),
    Employee(user="tom", name="Tom Okafor", title="Recruiter", department="HR", manager="olivia"),
    Employee(
        user="rachel",
        name="Rachel Stein",
        title="Finance Lead",
        department="Finance",
        manager="dana",
    ),
    Employee(
        user="luis", name="Luis Moreno", title="Accountant", department="Finance", manager="rachel"
    ),
    Employee(
        user="nina",
        name="Nina Petrova",
        title="Product Manager",
        department="Product",
        manager="dana",
    ),
    Employee(
        user="sam", name="Sam Carter", title="IT Administrator", department="IT", manager="dana"
    ),
    Employee(user="bot", name="Acme Bot", title="Automation", department="IT"),
)


def employee(user: str) -> Employee:
    """The employee with this user name (KeyError if none)."""
    for emp in EMPLOYEES:
        if emp.user == user:
            return emp
    raise KeyError(user)


def by_name(name: str) -> Employee:
    """The employee with this full name (KeyError if none)."""
    for emp in EMPLOYEES:
        if emp.name == name:
            return emp
    raise KeyError(name)
