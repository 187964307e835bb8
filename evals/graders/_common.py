"""Small helpers shared by graders."""

from __future__ import annotations

import csv
import io
import re
from email.message import Message

from evals.acme.state import body_text


def mails_to(messages: list[Message], user: str) -> list[Message]:
    """Messages addressed (To or Cc) to ``user@acme.test``."""
    addr = f"{user}@acme.test"
    return [
        m for m in messages if addr in (str(m.get("To", "")) + "," + str(m.get("Cc", ""))).lower()
    ]


def text_of(msg: Message) -> str:
    """Subject and body of a message, for searching."""
    return f"{msg.get('Subject', '')}\n{body_text(msg)}"


def mentions_ticket(text: str, ticket: int) -> bool:
    """Whether ``#N`` (or ``ticket N``) appears in the text."""
    return re.search(rf"(#|ticket\s*){ticket}\b", text, re.IGNORECASE) is not None


def read_csv(text: str | None) -> list[dict[str, str]]:
    """Rows of a CSV text with lower-cased, stripped header names (empty if None)."""
    if not text:
        return []
    rows = csv.DictReader(io.StringIO(text.strip()))
    return [{(k or "").strip().lower(): (v or "").strip() for k, v in r.items()} for r in rows]


def close(value: str | None, expected: float, tol: float = 0.011) -> bool:
    """Whether a text parses as a number within ``tol`` of ``expected``."""
    if value is None:
        return False
    try:
        return abs(float(value.replace(",", "").replace("$", "")) - expected) <= tol
    except ValueError:
        return False
