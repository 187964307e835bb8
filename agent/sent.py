"""A mail the goal asks to send, and the evidence that it left (part of the rule
``output_not_seen`` of agent/evidence.py).

A small model logs into the webmail, sees the inbox (a page full of "mail" and
"message") and says the reply is sent. The generic output check counts any mention of the
output's noun after the last change, which an inbox always has. For a mail, the evidence
is specific, and code can see it:

- a step that sent it from code (a send call, sendmail, swaks or curl to smtp:// in a
  python_run or shell_run that exited cleanly);
- a click on the compose form's Send control, after which the page moved on; or
- an observation after the last change that says so ("Message sent", "was sent").
"""

from __future__ import annotations

import re

from agent.state import Record, ToolStep
from tools.browser.actions import ACTED_ON

# The goal asks for a mail to go out: a sending verb governing a mail ("send them a reply",
# "reply to its sender", "... by email", "then email rachel@...", "answer their mail",
# "finish with an email to Rachel"). A mail word elsewhere (an app list's "Mail: webmail")
# or a question about mail ("who emailed you?") asks for nothing to be sent.
_ASKS = re.compile(
    r"(?i)\b(?:send|write|forward|compose)\s+(?:[\w@.-]+\s+){0,4}?(?:e-?mail|mail|message|reply)\b"
    r"|\b(?:reply|respond)\s+to\b|\bby\s+e-?mail\b"
    r"|(?:^|[.;:!?,]\s*|\b(?:and|then|please|also|finally)\s+)(?:e-?mail|mail)\s+"
    r"(?!server|app|client|box|address)[\w@.-]+"
    r"|\banswer\s+(?:\w+\s+){0,2}(?:mail|e-?mail|message|request)\b"
    r"|\bfinish\s+with\s+an?\s+e-?mail\b"
)
# code that sends: a client's send call, a sendmail or swaks command, curl to smtp:// (code
# that only imports smtplib and builds the message sends nothing: the 1.5B model's did, and
# said "Mail sent successfully")
_BY_CODE = re.compile(r"(?i)\.send_?(?:mail|message)\s*\(|(?<![.\w])sendmail\b|smtp://|\bswaks\b")
_SENT_CUE = re.compile(
    r"(?i)\b(?:message (?:was )?sent|sent successfully|mail sent|e-?mail sent|"
    r"(?:has|have|was|were) been sent|was sent|delivered)\b"
)
_SEND_CONTROL = re.compile(
    r'^\[\d+\] (?:button|link|menuitem) "(?:send|send message|send now)"', re.I
)
_CODE_TOOLS = frozenset({"python_run", "shell_run"})


def asks_to_send_mail(goal: str) -> bool:
    """True when the goal asks that a mail be sent."""
    return _ASKS.search(goal) is not None


def _url(output: str) -> str:
    return next((ln for ln in output.splitlines() if ln.startswith("URL:")), "")


def mail_sent(attempt: list[Record], last_change: int) -> bool:
    """Whether the attempt shows a mail sent (see the module)."""
    steps = [(i, r) for i, r in enumerate(attempt) if isinstance(r, ToolStep) and r.executed]
    for i, r in steps:
        if r.error:
            continue
        if r.tool in _CODE_TOOLS and _BY_CODE.search(str(r.arguments)):
            if "[exit code 0" in r.output:
                return True
        said = r.output.split("\n", 1)[0]
        if said.startswith(ACTED_ON) and _SEND_CONTROL.match(said[len(ACTED_ON) :]):
            before = next((o.output for j, o in reversed(steps) if j < i), "")
            if _url(r.output) != _url(before) or "compose" not in _url(r.output).lower():
                return True
        if i >= last_change and _SENT_CUE.search(r.output):
            return True
    return False
