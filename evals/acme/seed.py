"""Seed data of a task (the ``seed:`` section of task.yaml) and how it is written.

Seeds are written into an app's data folder while the app is stopped, right after its
base snapshot was restored (see :meth:`Environment.reset`), so no app caches stale data.
Timestamps are fixed, and generated files come from seeded generators, so the same task
always starts from the same state.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from evals.acme import datagen
from evals.acme.apps.calendar import calendar_dir
from evals.acme.apps.chat import bots_file
from evals.acme.apps.chat_bots import BotSpec
from evals.acme.apps.files import share_root
from evals.acme.apps.mail import maildirs
from evals.acme.apps.maildir import deliver
from evals.acme.apps.trac import trac_db
from evals.acme.company import DOMAIN, employee

EPOCH = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
"""The seeded history starts here; the tasks' "today" is Monday 2026-11-16."""


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


class TicketSeed(BaseModel):
    """A Trac ticket that exists before the task starts (ids follow the list order)."""

    summary: str
    description: str = ""
    type: Literal["defect", "enhancement", "task"] = "defect"
    component: str = "backend"
    priority: Literal["blocker", "critical", "major", "minor", "trivial"] = "major"
    owner: str = ""
    reporter: str = "dana"
    status: Literal["new", "assigned", "accepted", "reopened", "closed"] = "new"
    resolution: str = ""
    milestone: str = ""
    keywords: str = ""


class MilestoneSeed(BaseModel):
    """A Trac milestone."""

    name: str
    due: date | None = None
    completed: date | None = None
    description: str = ""


class WikiSeed(BaseModel):
    """A Trac wiki page (one version)."""

    name: str
    text: str


class TracSeed(BaseModel):
    """Everything seeded into Trac."""

    tickets: list[TicketSeed] = Field(default_factory=list)
    milestones: list[MilestoneSeed] = Field(default_factory=list)
    wiki: list[WikiSeed] = Field(default_factory=list)


class FileSeed(BaseModel):
    """A file on the share or in the workspace: literal ``content`` or ``generate``d."""

    path: str
    content: str | None = None
    generate: str | None = Field(default=None, description="A generator of evals.acme.datagen.")
    args: dict[str, Any] = Field(default_factory=dict)

    def text(self) -> str:
        """The file's content."""
        if self.content is not None:
            return self.content
        if self.generate is None:
            raise ValueError(f"seed file {self.path}: give content or generate")
        return datagen.generate(self.generate, **self.args)


class MailSeed(BaseModel):
    """A message already in a user's inbox."""

    to: str = "alex"
    sender: str = Field(description="A user name of the company or a full address.")
    subject: str
    body: str
    days_ago: float = 0.5
    seen: bool = False


class EventSeed(BaseModel):
    """A calendar event stored in a user's calendar."""

    user: str = "alex"
    uid: str
    summary: str
    start: datetime
    end: datetime
    location: str = ""
    description: str = ""
    attendees: list[str] = Field(default_factory=list, description="User names.")


class Seed(BaseModel):
    """The ``seed:`` section of task.yaml."""

    trac: TracSeed = Field(default_factory=TracSeed)
    files: list[FileSeed] = Field(default_factory=list)
    workspace: list[FileSeed] = Field(default_factory=list)
    mail: list[MailSeed] = Field(default_factory=list)
    calendar: list[EventSeed] = Field(default_factory=list)
    bots: list[BotSpec] = Field(default_factory=list)

    def apply(self, app: str, data: Path) -> None:
        """Write this seed's part for ``app`` into its (stopped) data folder."""
        if app == "trac":
            _seed_trac(self.trac, data)
        elif app == "files":
            for f in self.files:
                path = share_root(data) / f.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f.text())
        elif app == "mail":
            for m in self.mail:
                deliver(maildirs(data), m.to, _message(m), seen=m.seen)
        elif app == "calendar":
            for ev in self.calendar:
                folder = calendar_dir(data, ev.user)
                (folder / f"{ev.uid}.ics").write_text(event_ics(ev))
        elif app == "chat":
            bots_file(data).write_text(json.dumps([b.model_dump() for b in self.bots]))

    def write_workspace(self, workspace: Path) -> None:
        """Put the seeded workspace files into the agent's workspace."""
        for f in self.workspace:
            path = workspace / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text())


def _address(who: str) -> str:
    if "@" in who:
        return who
    return f"{employee(who).name} <{who}@{DOMAIN}>"


def _message(m: MailSeed) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _address(m.sender)
    msg["To"] = _address(m.to)
    msg["Subject"] = m.subject
    msg["Date"] = format_datetime(EPOCH + timedelta(days=14) - timedelta(days=m.days_ago))
    digest = hashlib.sha256(f"{m.to}|{m.subject}".encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<{digest}@{DOMAIN}>"
    msg.set_content(m.body)
    return msg


def event_ics(ev: EventSeed) -> str:
    """One VEVENT in a VCALENDAR, as Radicale stores it."""

    def fmt(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Acme Corp//seed//EN",
        "BEGIN:VEVENT",
        f"UID:{ev.uid}",
        f"DTSTAMP:{fmt(EPOCH)}",
        f"DTSTART:{fmt(ev.start)}",
        f"DTEND:{fmt(ev.end)}",
        f"SUMMARY:{ev.summary}",
    ]
    if ev.location:
        lines.append(f"LOCATION:{ev.location}")
    if ev.description:
        lines.append(f"DESCRIPTION:{ev.description}")
    lines += [f"ATTENDEE:mailto:{u}@{DOMAIN}" for u in ev.attendees]
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def _seed_trac(seed: TracSeed, data: Path) -> None:
    with sqlite3.connect(trac_db(data)) as db:
        for i, t in enumerate(seed.tickets):
            moment = _us(EPOCH + timedelta(hours=3 * i))
            db.execute(
                "INSERT INTO ticket (type, time, changetime, component, severity, priority, owner,"
                " reporter, cc, version, milestone, status, resolution, summary, description,"
                " keywords) VALUES (?, ?, ?, ?, '', ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?)",
                (
                    t.type,
                    moment,
                    moment,
                    t.component,
                    t.priority,
                    t.owner,
                    t.reporter,
                    t.milestone,
                    t.status,
                    t.resolution,
                    t.summary,
                    t.description,
                    t.keywords,
                ),
            )
        for m in seed.milestones:
            due = _us(datetime.combine(m.due, datetime.min.time(), UTC)) if m.due else 0
            done = (
                _us(datetime.combine(m.completed, datetime.min.time(), UTC)) if m.completed else 0
            )
            db.execute(
                "INSERT INTO milestone (name, due, completed, description) VALUES (?, ?, ?, ?)",
                (m.name, due, done, m.description),
            )
        for w in seed.wiki:
            db.execute(
                "INSERT INTO wiki (name, version, time, author, text, comment, readonly)"
                " VALUES (?, 1, ?, 'dana', ?, '', 0)",
                (w.name, _us(EPOCH), w.text),
            )
