"""Write the task folders of every suite from the family definitions below.

``python -m evals.suites._build`` regenerates ``evals/suites/{smoke,acme,acme-transfer}``
deterministically (same output every run); the folders are committed. Each task gets a
``task.md`` (what the agent reads, with URL placeholders) and a ``task.yaml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent
SUITES = ("smoke", "acme", "acme-transfer")
_TASKS: list[tuple[str, str, str, dict[str, Any]]] = []

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
) -> None:
    """Register one task folder to write."""
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
    _TASKS.append((suite, name, text, spec))


def write_all() -> None:
    """Replace the suites' folders with the registered tasks."""
    for suite in SUITES:
        shutil.rmtree(ROOT / suite, ignore_errors=True)
    for suite, name, text, spec in _TASKS:
        folder = ROOT / suite / name
        folder.mkdir(parents=True)
        (folder / "task.md").write_text(text)
        (folder / "task.yaml").write_text(
            yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
        )


def main() -> None:
    """Register every family's tasks and write them."""
    # import by name: under ``python -m`` this file is ``__main__``, a different module
    from evals.suites import _build, _families

    _families.register_all()
    _build.write_all()
    counts = {s: sum(1 for t in _build._TASKS if t[0] == s) for s in SUITES}
    print("wrote", ", ".join(f"{s}: {n}" for s, n in counts.items()))


if __name__ == "__main__":
    main()
