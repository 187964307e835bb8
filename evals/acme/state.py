"""Readers of the apps' stored state, for graders: never the agent's trajectory."""

from __future__ import annotations

import json
import mailbox
import sqlite3
from datetime import datetime
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from evals.acme.apps.calendar import calendar_dir
from evals.acme.apps.chat import chat_log
from evals.acme.apps.files import share_root
from evals.acme.apps.mail import maildirs
from evals.acme.apps.maildir import OUTBOUND, maildir_path
from evals.acme.apps.trac import trac_db


class Ticket(BaseModel):
    """A Trac ticket as stored now, with its comments."""

    id: int
    summary: str
    description: str
    type: str
    component: str
    priority: str
    owner: str
    reporter: str
    status: str
    resolution: str
    milestone: str
    keywords: str
    comments: list[str] = Field(default_factory=list)


class TracState:
    """Tickets, wiki pages and milestones from Trac's SQLite database."""

    def __init__(self, data: Path):
        self.db_path = trac_db(data)

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def tickets(self) -> list[Ticket]:
        """Every ticket, in id order."""
        comments: dict[int, list[str]] = {}
        for row in self._rows(
            "SELECT ticket, newvalue FROM ticket_change WHERE field = 'comment' ORDER BY time"
        ):
            if row["newvalue"]:
                comments.setdefault(row["ticket"], []).append(row["newvalue"])
        out = []
        for row in self._rows("SELECT * FROM ticket ORDER BY id"):
            fields = {k: (row[k] or "") for k in row.keys() if k not in ("time", "changetime")}
            fields["comments"] = comments.get(row["id"], [])
            out.append(Ticket.model_validate(fields))
        return out

    def ticket(self, ticket_id: int) -> Ticket | None:
        """One ticket by id."""
        return next((t for t in self.tickets() if t.id == ticket_id), None)

    def wiki(self, name: str) -> str | None:
        """The latest text of a wiki page (None if absent)."""
        rows = self._rows(
            "SELECT text FROM wiki WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)
        )
        return rows[0]["text"] if rows else None

    def wiki_names(self) -> list[str]:
        """Names of all wiki pages."""
        return [r["name"] for r in self._rows("SELECT DISTINCT name FROM wiki ORDER BY name")]

    def milestones(self) -> dict[str, dict[str, Any]]:
        """Milestones by name: due and completed (datetimes or None), description."""

        def when(us: int | None) -> datetime | None:
            return datetime.fromtimestamp(us / 1e6).astimezone() if us else None

        return {
            r["name"]: {
                "due": when(r["due"]),
                "completed": when(r["completed"]),
                "description": r["description"] or "",
            }
            for r in self._rows("SELECT * FROM milestone")
        }


class MailState:
    """Messages in the Maildirs (inbox and the ``_outbound`` box for outside mail)."""

    def __init__(self, data: Path):
        self.root = maildirs(data)

    def messages(self, user: str) -> list[Message]:
        """Every message stored for ``user`` (all folders), oldest first."""
        path = maildir_path(self.root, user)
        if not path.exists():
            return []
        out: list[Message] = []
        box = mailbox.Maildir(path, factory=None, create=False)
        folders = [box, *(box.get_folder(f) for f in box.list_folders())]
        for folder in folders:
            for key in folder.keys():
                with folder.get_file(key) as fh:
                    out.append(mailbox.email.message_from_binary_file(fh, policy=default_policy))  # type: ignore[attr-defined]
        return out

    def inbox(self, user: str) -> list[Message]:
        """Messages delivered to ``user`` by SMTP (carrying our envelope header)."""
        return [m for m in self.messages(user) if m.get("X-Acme-Envelope-To")]

    def outbound(self) -> list[Message]:
        """Mail sent to addresses outside the company."""
        return self.messages(OUTBOUND)


def body_text(msg: Message) -> str:
    """The plain-text body of a message (the first text part)."""
    if msg.is_multipart():
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                return payload.decode(errors="replace") if isinstance(payload, bytes) else ""
        return ""
    payload = msg.get_payload(decode=True)
    return payload.decode(errors="replace") if isinstance(payload, bytes) else str(payload)


class Event(BaseModel):
    """A calendar event read from an .ics file."""

    uid: str
    summary: str
    start: datetime
    end: datetime | None
    location: str = ""
    description: str = ""
    attendees: list[str] = Field(default_factory=list)


class CalendarState:
    """Events from Radicale's storage folder (one .ics file per event)."""

    def __init__(self, data: Path):
        self.data = data

    def events(self, user: str = "alex", calendar: str | None = None) -> list[Event]:
        """Every event in the user's calendars (or one calendar)."""
        import vobject

        root = calendar_dir(self.data, user).parent
        folders = [root / calendar] if calendar else [p for p in root.iterdir() if p.is_dir()]
        out = []
        for folder in folders:
            for ics in sorted(folder.glob("*.ics")):
                try:
                    cal = vobject.readOne(ics.read_text())
                except Exception:  # an unparsable file is not an event
                    continue
                for ev in cal.contents.get("vevent", []):
                    start = ev.dtstart.value
                    end = ev.dtend.value if hasattr(ev, "dtend") else None
                    out.append(
                        Event(
                            uid=str(ev.uid.value) if hasattr(ev, "uid") else ics.stem,
                            summary=str(ev.summary.value) if hasattr(ev, "summary") else "",
                            start=_as_datetime(start),
                            end=_as_datetime(end) if end is not None else None,
                            location=str(ev.location.value) if hasattr(ev, "location") else "",
                            description=str(ev.description.value)
                            if hasattr(ev, "description")
                            else "",
                            attendees=[
                                str(a.value).lower().removeprefix("mailto:")
                                for a in ev.contents.get("attendee", [])
                            ],
                        )
                    )
        return out


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.astimezone()
    return datetime(value.year, value.month, value.day).astimezone()


class ChatState:
    """What the colleague bots received (their JSONL log)."""

    def __init__(self, data: Path):
        self.path = chat_log(data)

    def received(self, bot: str | None = None, sender: str = "alex") -> list[str]:
        """Bodies of the messages ``bot`` (or any bot) received from ``sender``."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            rec = json.loads(line)
            if "body" in rec and rec["from"] == sender and (bot is None or rec["bot"] == bot):
                out.append(rec["body"])
        return out


class FilesState:
    """The company file share."""

    def __init__(self, data: Path):
        self.root = share_root(data)

    def read(self, path: str) -> str | None:
        """A file's text, or None if absent."""
        target = self.root / path
        return target.read_text(errors="replace") if target.is_file() else None

    def list(self, folder: str = "") -> list[str]:
        """Relative paths of all files under ``folder``."""
        base = self.root / folder
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())
