"""A mail the goal asks to send, and the evidence that it left (part of the rule
``output_not_seen`` of agent/evidence.py).

A small model logs into the webmail, sees the inbox (a page full of "mail" and
"message") and says the reply is sent. The generic output check counts any mention of the
output's noun after the last change, which an inbox always has. For a mail, the evidence
is specific, and code can see it:

- a step that sent it: the mail tool (``mail_send``), or code (a send call, sendmail,
  swaks or curl to smtp:// in a python_run or shell_run that exited cleanly);
- a click on the compose form's Send control, after which the page moved on; or
- an observation after the last change that says so ("Message sent", "was sent").

A reply must also go to someone the run learnt of (``reply_unread``): the 1.5B model, told
to reply to a request in its mailbox, never opened it and mailed the address the task's
preamble gives as an example of the company's addresses ("e.g. priya@acme.test").
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
    r"|\banswer\s+(?:[\w'’]+\s+){0,2}(?:mail|e-?mail|message|request)\b"
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
MAIL_TOOL = "mail_send"  # tools/mail.py
_REPLY = re.compile(
    r"(?i)\b(?:reply|replies|respond|write\s+back)\b"
    r"|\banswer\s+(?:[\w'’]+\s+){0,2}(?:mail|e-?mail|message|request)\b"
)
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EXAMPLE = re.compile(r"(?i)(?:\be\.g\.|\bfor example|\bsuch as|\blike)\W{0,3}$")


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
        if r.tool == MAIL_TOOL:  # the mail tool says whom it sent to, or fails
            return True
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


def asks_to_reply(goal: str) -> bool:
    """True when the goal asks that a mail be sent in reply to one ("reply to its sender")."""
    return _REPLY.search(goal) is not None and asks_to_send_mail(goal)


def _given(text: str) -> set[str]:
    """The addresses ``text`` gives, except those it gives as examples ("e.g. a@b.c")."""
    return {
        m.group(0).lower()
        for m in _ADDRESS.finditer(text)
        if not _EXAMPLE.search(text[max(0, m.start() - 16) : m.start()])
    }


def _addressed(step: ToolStep) -> set[str]:
    """The addresses a step that sends or fills a form gives: in code that sends (or runs a
    mail command), or typed into a field."""
    args = str(step.arguments)
    if step.tool == MAIL_TOOL:  # its arguments, or the sender of the message it answered
        return {a.lower() for a in _ADDRESS.findall(f"{args} {step.output.split(' from ', 1)[0]}")}
    if step.tool in _CODE_TOOLS and (_BY_CODE.search(args) or re.search(r"\bmail\b", args)):
        return {a.lower() for a in _ADDRESS.findall(args)}
    if step.tool.startswith("browser_") and "text" in step.arguments:
        return {a.lower() for a in _ADDRESS.findall(str(step.arguments["text"]))}
    return set()


def reply_unread(
    task: str, goal: str, attempt: list[Record], history: list[Record]
) -> tuple[str, str] | None:
    """``(evidence, analysis)`` when the goal asks for a reply and the attempt mailed an
    address that neither the task nor the goal gives (examples aside) and that nothing the
    run read before using it shows, by address or by its user name ("Kenji Sato" for
    kenji@...): a reply to no message the run opened. None otherwise, and without the
    task's text (what it gives is not known)."""
    if not (task and asks_to_reply(goal)):
        return None
    used = [a for r in attempt if isinstance(r, ToolStep) and r.executed for a in _addressed(r)]
    given = _given(task) | _given(goal)
    for address in dict.fromkeys(a for a in used if a not in given):
        user = address.split("@", 1)[0]
        seen = ""
        for r in history:
            if not isinstance(r, ToolStep) or not r.executed:
                continue
            if address in str(r.arguments).lower() or address in _addressed(r):
                break  # read before the address was first used, not after
            seen += "\n" + r.output.lower()
        if address in seen or re.search(rf"(?<![\w.+-]){re.escape(user)}(?![\w-])", seen):
            continue
        example = (
            " (the task gives it only as an example of an address)"
            if address in (task + goal).lower()
            else ""
        )
        return (
            f"the reply went to {address}{example}, and nothing the run read before showed it",
            (
                f"The reply went to {address}{example}, and no message or page the run read "
                "came from that address. Open the message in the mailbox, see who sent it, and "
                "reply to that sender."
            ),
        )
    return None
