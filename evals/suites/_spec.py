"""One task's spec: the text the agent reads and the ``task.yaml`` the runner reads.

Pure: :func:`task` builds a :class:`TaskSpec` and the families in ``_families.py``
return lists of them; ``_build.py`` writes them to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APP_LINES = {
    "trac": "- Trac (tickets, wiki, milestones): {trac_url} (no login needed)",
    "files": (
        "- File share: {files_url} (a browser shows a read-only listing; to upload, use"
        " WebDAV, e.g. `curl -T report.csv {files_url}/Folder/report.csv`)"
    ),
    "calendar": (
        "- Calendars (CalDAV): your calendar is {calendar_url}/alex/calendar/ ; store an"
        " event by uploading an .ics file: `curl -T event.ics"
        " {calendar_url}/alex/calendar/<uid>.ics`"
    ),
    "mail": (
        "- Mail: webmail {webmail_url} (user `alex`, password `alex-acme-2026`); SMTP"
        " {smtp_host}:{smtp_port} and IMAP {smtp_host}:{imap_port} without TLS, same login"
    ),
    "chat": (
        "- Chat: {chat_url} (log in as `alex@acme.test`, password `alex-acme-2026`); XMPP"
        " also on 127.0.0.1:{xmpp_port}, domain {xmpp_domain}"
    ),
}
INTRO = (
    "You are Alex Kim (`alex`, alex@acme.test), operations associate at Acme Corp. "
    "Today is Monday 16 November 2026; times are UTC. People are addressed as "
    "`<user>@acme.test` (e.g. priya@acme.test).\n"
)


@dataclass(frozen=True)
class TaskSpec:
    """One task folder to write: ``suite/name/task.md`` (``text``) and ``task.yaml`` (``spec``)."""

    suite: str
    name: str
    text: str
    spec: dict[str, Any]


def task(
    suite: str,
    name: str,
    *,
    title: str,
    category: str,
    family: str,
    difficulty: str,
    apps: list[str],
    body: str,
    grader: str,
    solution: str,
    params: dict[str, Any],
    seed: dict[str, Any] | None = None,
    max_steps: int | None = None,
) -> TaskSpec:
    """The spec of one task folder."""
    apps_text = "\n".join(APP_LINES[a] for a in apps)
    text = f"# {title}\n\n{INTRO}\n{body.strip()}\n"
    if apps:
        text += f"\nApps you can use:\n{apps_text}\n"
    spec = {
        "title": title,
        "category": category,
        "family": family,
        "difficulty": difficulty,
        "apps": apps,
        "limits": {"max_steps": max_steps or (15 if difficulty == "short" else 40)},
        "grader": grader,
        "solution": solution,
        "params": params,
        "seed": seed or {},
    }
    return TaskSpec(suite, name, text, spec)
