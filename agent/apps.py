"""A web app the task names, taken for a Python library: held back before it runs.

Office tasks give their apps by address ("- Trac (tickets, wiki, milestones):
http://127.0.0.1:8000"). The 1.5B model, asked to change a ticket, wrote Python against an
imagined library of the app's name (``from trac.ticket import Ticket; Ticket(env, 9)``), or
asked to install it, in every attempt of the curve's ticket family, or ran an imagined command
of that name (``trac-admin``, ``subprocess.run(['trac', 'query', ...])``): the app's pages were
never opened, and nothing was changed. When code imports, pip installs or runs a module or
command named like an app the task gives by a web address, the executor holds the call back
once and names the address to open instead; the same call sent again runs (agent.executor).

A module of the standard library is never held back (a "Calendar" app and ``import
calendar`` for date sums), nor is an app given without a web address (a database or a
cache at host:port is meant to be reached from code).
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from agent.logins import APP_LINE, URL_LINE, WEB_ADDRESS, line_login, origin
from agent.outputs import FILE, without_examples
from agent.state import Record, ToolStep, flatten
from agent.targets import HELD_BACK, NEGATED
from tools.settings import MailAccount

# the app's label: a line's leading words, up to a ':' or '(' ("- Trac (tickets): http...")
_LABEL = re.compile(r"^\s*(?:[-*\u2022]\s*)?([A-Za-z][\w .-]{0,40}?)\s*[:(]")
_IMPORT = re.compile(
    r"(?:^|[\s;\"'(])(?:from\s+([A-Za-z_]\w*)[\w.]*\s+import|import\s+([A-Za-z_][\w, .]*))",
    re.MULTILINE,
)
_PIP = re.compile(r"\bpip3?\s+install\s+((?:[^\s;&|]+\s*)+)")
# a here-document's body, from `<<'END'` (or <<END, <<-"END") to the line `END`
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1[^\n]*\n.*?^\s*\2\s*$", re.DOTALL | re.MULTILINE)
_SEPARATORS = frozenset(";&|()\n") | {"&&", "||", ";;", "|&"}
_RUNS = re.compile(
    r"\b(?:subprocess\.\w+|os\.(?:system|popen))\(\s*\[?\s*[\"']\s*([A-Za-z][\w.-]*)"
)
_WORD = re.compile(r"[A-Za-z][\w-]*")
_HOST_PORT = re.compile(r"\b(?:localhost|(?:\d{1,3}\.){3}\d{1,3}|[\w-]+(?:\.[\w-]+)+):\d{2,5}\b")
ReadOnly = Callable[[str], bool]


def _app_lines(task: str) -> list[tuple[str, str, str]]:
    """``(label, address, line)`` of each line of the task that gives an app by a web address."""
    out = []
    for line in task.splitlines():
        url = WEB_ADDRESS.search(line)
        label = _LABEL.match(line[: url.start()]) if url else None
        if url is not None and label is not None:
            out.append((label.group(1).strip(), url.group(0).rstrip("."), line))
    return out


def without_app_lines(text: str) -> str:
    """``text`` less its bulleted lines that give an app by a web address: "- Mail: webmail
    http://... (user `alex`); SMTP ..., same login" says how to reach an app, and its words
    ("login", "upload", "share") ask for nothing."""
    apps = {line for _, _, line in _app_lines(text) if re.match(r"\s*[-*\u2022]\s", line)}
    return "\n".join(ln for ln in text.splitlines() if ln not in apps)


def web_apps(task: str) -> dict[str, tuple[str, str]]:
    """``module-like name -> (label, address)`` of each app a line of the task gives by a
    web address ("Trac" and "trac" for "- Trac (tickets, wiki): http://host:8000")."""
    out: dict[str, tuple[str, str]] = {}
    for name, url, _ in _app_lines(task):
        words = [w.lower() for w in _WORD.findall(name)]
        for key in {*words, "".join(words), "_".join(words)}:
            if len(key) >= 3:
                out.setdefault(key, (name, url))
    return out


def _modules(tool: str, arguments: dict[str, Any]) -> set[str]:
    """The top-level modules a call imports or installs."""
    texts = [str(v) for v in arguments.values() if isinstance(v, str)]
    found: set[str] = set()
    if tool in ("python_run", "shell_run"):
        for text in texts:
            for m in _IMPORT.finditer(text.replace(";", "\n")):
                names = [m.group(1)] if m.group(1) else m.group(2).split(",")
                found |= {n.strip().split(".")[0].split(" ")[0] for n in names if n.strip()}
    if tool == "shell_run":
        for text in texts:
            for m in _PIP.finditer(text):
                found |= {p for p in m.group(1).split() if not p.startswith("-")}
    if tool == "python_install":
        packages = arguments.get("packages")
        found |= {str(p) for p in packages} if isinstance(packages, list) else set()
    return {_name(m) for m in found}


def _commands(tool: str, arguments: dict[str, Any]) -> set[str]:
    """The programs a call runs, by the app name they would carry ("trac-admin": "trac")."""
    text = arguments.get("command" if tool == "shell_run" else "code")
    if tool not in ("python_run", "shell_run") or not isinstance(text, str):
        return set()
    found = _shell_commands(text) if tool == "shell_run" else _RUNS.findall(text)
    return {re.split(r"[-_.]", c.lower(), maxsplit=1)[0] for c in found}


def _shell_commands(text: str) -> list[str]:
    """The command word of each simple command of a shell line, here-documents left out
    (a script fed to ``python3 -`` is not commands); a line that does not parse gives none."""
    found: list[str] = []
    for line in _HEREDOC.sub("", text).splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        try:
            tokens = list(lexer)
        except ValueError:  # a quote left open
            continue
        first = True
        for token in tokens:
            if token in _SEPARATORS or set(token) <= set(";&|()"):
                first = True
            elif first and token != "sudo" and not re.match(r"^\w+=", token):
                if re.match(r"^[A-Za-z][\w.-]*$", token):
                    found.append(token)
                first = False
    return found


def _name(spec: str) -> str:
    """ "trac==1.6", "py-gitea" and "Trac" name the same app as "trac" and "gitea"."""
    base = re.split(r"[<>=!~\[ ]", spec.strip(), maxsplit=1)[0].lower()
    return base.removeprefix("py-")


def app_as_module(task: str, tool: str, arguments: dict[str, Any]) -> str | None:
    """The error that holds back code that imports, installs or runs a module or command named
    like a web app of the task (not a module of the standard library), else None."""
    if tool not in ("python_run", "shell_run", "python_install"):
        return None
    apps = web_apps(task)
    found = [(m, "a Python library") for m in sorted(_modules(tool, arguments))]
    # an app whose line also gives a server for code (SMTP at host:port) may have a command
    coded = {
        label for label, _, line in _app_lines(task) if _HOST_PORT.search(WEB_ADDRESS.sub("", line))
    }
    found += [
        (c, "a command")
        for c in sorted(_commands(tool, arguments))
        if apps.get(c, ("",))[0] not in coded
    ]
    for name, kind in found:
        if name in sys.stdlib_module_names or name not in apps:
            continue
        label, url = apps[name]
        return (
            f"{HELD_BACK}{label} is the web app at {url} in this task, not {kind} in the "
            f"workspace ({name!r}): open it with browser_goto {url} and act on its pages "
            "(to run this code anyway, send the same call again)."
        )
    return None


def blank_tab_note(task: str, observation: str) -> str | None:
    """On a blank tab (nothing opened yet, or an address refused), the web addresses the task
    gives, to open one of them: the 1.5B model clicked ids 0 to 10 on a blank tab after it
    made up an address ("http://acme.corp/sms/REQ-5113") for a webmail the task gave."""
    if not re.search(r"^URL: (?:about:blank)?\s*$", observation, re.MULTILINE):
        return None
    if "started a download instead of opening a page" in observation:
        return None  # the address was a file: the notice says where it went
    apps = dict.fromkeys(web_apps(task).values())
    if not apps:
        return None
    listed = "; ".join(f"{label} at {url} " for label, url in apps)
    return (
        f"No page is open in the browser. The task's web apps: {listed}- open the one the "
        "task needs with browser_goto and its address."
    )


def empty_folder_note(task: str, goal: str, observation: str) -> str | None:
    """After a listing of an empty folder, when the goal names an app the task gives by
    address (and no file): where the work is. The 1.5B model, told "There is an access
    request in your mailbox" or "Ticket #6 in Trac has the wrong priority", listed the empty
    workspace again and again (8 listings in 4 of the committed runs, all of them app tasks)."""
    if not observation.rstrip().endswith("\n(empty)") or FILE.search(APP_LINE.sub(" ", goal)):
        return None
    named = [(label, url) for label, url, line in _app_lines(task) if _named(goal, label, line)]
    if not named:
        return None
    where = " and ".join(f"{label} ({url})" for label, url in dict.fromkeys(named))
    return (
        f"This folder holds nothing, and the goal is not about a file: it is about {where}. "
        "Open it with browser_goto and its address, and work on its pages."
    )


_LINK_TARGET = re.compile(r"^\[\d+\] link .* -> (\S+)$", re.MULTILINE)
_NOT_FOUND = re.compile(r"^Title: .*(?:\b404\b|not found)", re.IGNORECASE | re.MULTILINE)


def _home_of(name: str, text: str, apps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The app a sentence naming ``name`` mentions by the last word of its label ("on the
    file share" for "File share"), the one mentioned nearest to the name where it names two
    ("`Finance/claims.csv` on the file share ... a ticket in Trac")."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        at = sentence.find(name)
        if at < 0:
            continue
        near = []
        for label, base in apps:
            heads = re.finditer(rf"\b{re.escape(label.split()[-1])}\b", sentence, re.IGNORECASE)
            gaps = [abs(h.start() - at) for h in heads]
            if gaps:
                near.append((min(gaps), label, base))
        if near:
            _, label, base = min(near)
            out.append((label, base))
    return list(dict.fromkeys(out))


def missing_page_note(task: str, observation: str) -> str | None:
    """On a "not found" page of an app the task gives, at an address whose file name is one
    the task names: where that path is, on the app the task's sentence names for it (else on
    this one). The 1.5B model took the task's upload example (``curl -T report.csv
    http://host/Folder/report.csv``) for the share's layout and opened ``/Folder/<name>``, or
    put a share's path under the webmail's address: 7 of the 30 addresses it opened in the
    committed runs that were not found (the others: app routes it made up, folders)."""
    url = URL_LINE.search(observation)
    if url is None or not _NOT_FOUND.search(observation):
        return None
    here = url.group(1)
    leaf = PurePosixPath(unquote(urlsplit(here).path)).name.lower()
    apps = [(label, base) for label, base, _ in _app_lines(task)]
    this = [(label, base) for label, base in apps if origin(base) == origin(here)]
    if not leaf or not this:
        return None
    text = without_examples(without_app_lines(task))
    said = []
    for name in dict.fromkeys(m.group(1) for m in FILE.finditer(text)):
        if PurePosixPath(name).name.lower() != leaf:
            continue
        for label, base in _home_of(name, text, apps) or this[:1]:
            address = f"{base.rstrip('/')}/{name.lstrip('/')}"
            if address != here.split("?")[0]:
                said.append(f"`{name}` on {label}: {address}")
    if not said:
        return _app_prefix_note(here, this, observation)
    return (
        f"Nothing is at {here} ({this[0][0]} has no such path). The task's path "
        f"{'; '.join(said)} (a path the task gives is relative to its app's address)."
    )


def _app_prefix_note(here: str, this: list[tuple[str, str]], observation: str) -> str | None:
    """A not-found address whose path starts with the name of the app served at the root of
    its host, where no link of the page starts so: the same path without it. The 1.5B model
    opened ``/trac/ticket/9`` on a Trac at ``http://host:port`` in 3 of the 17 not-found
    addresses of the curve's runs that were no task file."""
    parts = urlsplit(here)
    first, _, rest = parts.path.lstrip("/").partition("/")
    links = [urlsplit(u).path.lower() for u in _LINK_TARGET.findall(observation)]
    for label, base in this:
        if (
            urlsplit(base).path.strip("/")
            or first.lower() not in {w.lower() for w in _WORD.findall(label)}
            or any(link.startswith(f"/{first.lower()}/") for link in links)  # a route of its own
        ):
            continue
        address = f"{origin(base)}/{rest}" + (f"?{parts.query}" if parts.query else "")
        return (
            f"Nothing is at {here}: {label} is served at the root of {origin(base)}, so its "
            f"addresses have no `/{first}` in front. Try {address}"
        )
    return None


_NO_MAILER = re.compile(r"\b(mailx?|sendmail|mutt|msmtp|ssmtp|swaks)\b: (?:command )?not found")
_SMTP = re.compile(
    r"\bSMTP\b[^\n]*?\b(localhost|(?:\d{1,3}\.){3}\d{1,3}|[\w-]+(?:\.[\w-]+)+):(\d{2,5})"
)


def mailer_note(task: str, observation: str) -> str | None:
    """After a mail command the shell does not have, the SMTP server the task gives: the
    1.5B model piped its reply into `mail` (exit 127) twice an attempt in the curve's mail
    tasks, and never used the server the task names."""
    missing, smtp = _NO_MAILER.search(observation), _SMTP.search(task)
    if missing is None or smtp is None:
        return None
    host, port = smtp.group(1), smtp.group(2)
    line = next(ln for ln in task.splitlines() if smtp.group(0) in ln)
    login = line_login(line)
    user = f" as {login[0]} with the password the task gives" if login else ""
    return (
        f"There is no `{missing.group(1)}` command here. The task gives an SMTP server at "
        f"{host}:{port}: send the mail from Python with smtplib (smtplib.SMTP('{host}', {port}), "
        f"log in{user} if it asks, then send_message)."
    )


# an endpoint an app's line gives: a web address's host:port, or "SMTP 127.0.0.1:2525"
_ENDPOINT = re.compile(r"\b(?:localhost|(?:\d{1,3}\.){3}\d{1,3}|[\w-]+(?:\.[\w-]+)+):(\d{2,5})\b")


def _endpoints(line: str) -> tuple[set[str], set[str]]:
    """The hosts (with their ports) and the ports of an app's line."""
    places = {urlsplit(u.rstrip(".")).netloc.lower() for u in WEB_ADDRESS.findall(line)}
    found = list(_ENDPOINT.finditer(line))
    return places | {m.group(0).lower() for m in found}, {m.group(1) for m in found}


def _named(goal: str, label: str, line: str) -> bool:
    """The goal, outside its list of apps, names the app: by its label as a phrase, singular
    or plural ("the file share", "your calendar" for "Calendars"), or by a host of its line;
    a name after a negation ("do not use the chat") does not count."""
    return bool(_naming(goal, label, line))


def _naming(goal: str, label: str, line: str) -> list[str]:
    """The sentences of the goal that name the app (see :func:`_named`)."""
    text = APP_LINE.sub(" ", goal)
    words = label.lower().split()
    words[-1] = words[-1].removesuffix("s")
    names = [r"\s+".join(map(re.escape, words)) + "s?"]
    names += [re.escape(place) for place in _endpoints(line)[0]]
    pattern = re.compile(rf"(?<![\w/]){'|'.join(f'(?:{n})' for n in names)}(?!\w)", re.IGNORECASE)
    return [
        sentence
        for sentence in re.split(r"(?<=[.!?;])\s+|\n+", text)
        if any(not NEGATED.search(sentence[: m.start()]) for m in pattern.finditer(sentence))
    ]


def _reaches(step: ToolStep, line: str) -> bool:
    """The executed step acted on the app of ``line``: a page of its address was shown, or
    the call names one of its hosts or ports (a script or command given its host:port, or
    its port alone, as in ``smtplib.SMTP('127.0.0.1', 2525)``)."""
    if not step.executed:
        return False
    places, ports = _endpoints(line)
    shown = next((ln for ln in step.output.splitlines() if ln.startswith("URL:")), "")
    if shown and urlsplit(shown[4:].strip()).netloc.lower() in places:
        return True
    called = json.dumps(step.arguments, ensure_ascii=False).lower()
    if step.tool.startswith("mail_"):  # the mail tools name the server they used
        called += " " + step.output.split("\n", 1)[0].lower()
    return any(p in called for p in places) or any(
        re.search(rf"(?<![\d.]){port}(?!\d)", called) for port in ports
    )


# Effects that happen in a system other than the workspace ("book", "invite", "send"; not
# "write", "create", "update", which a file takes as well): with one app in the task and none
# named, the goal is about that one (app_untouched).
_ELSEWHERE = re.compile(
    r"(?i)(?:book|schedul|reserv|invit|assign|send|upload|shar|register|approv|reject|reopen|"
    r"declin|cancel|post|order|repl|forward|e-?mail|mail)"
)


# an app that holds files: a goal's file is on it and in the workspace alike
_FILE_APP = re.compile(r"(?i)^[^:(]*\b(?:files?|share|drive|storage|documents?)\b|\bwebdav\b")


def app_untouched(
    task: str,
    goal: str,
    attempt: list[Record],
    history: list[Record],
    read_only: ReadOnly,
    effects: Callable[[str], tuple[list[str], list[str]]] = lambda text: ([], []),
) -> tuple[str, str] | None:
    """``(evidence, analysis)`` when a goal that names an app the task gives by address, and
    no file, was worked elsewhere, else None: no action of the run (``history``, up to and with
    the attempt) reached the app, or every change the attempt made stayed in the workspace.
    The 1.5B model, asked to resolve a Trac ticket, wrote ``trac/ticket/4.txt`` in the
    workspace and judged the ticket resolved.

    A goal that names a file asks only that each app it names in a sentence with an effect
    (``effects``: agent.evidence's ``effects_asked``), other than a file share, was
    reached: its input is in the workspace as well as on the share ("sum the hours in
    `t.csv` from the tracker"), and its output may be a file of the workspace. Told to
    create a Trac wiki page from `HR/new-hires/omar-souza.txt`, the 1.5B model read the
    file, printed its fields and judged the page created.

    A goal whose ``effects`` (agent.evidence's effect verbs) happen outside the workspace
    ("book", "invite", "send") and that names no app, in a task that gives one app, is
    about that one: told to 'Book "Hiring sync" ... Invite sam@...' with a calendar the only
    app, the 1.5B model wrote ``calendar/event.ics`` in the workspace, uploaded nothing and
    judged the meeting booked."""
    apps = _app_lines(task)
    naming = {app: _naming(goal, app[0], app[2]) for app in apps}
    named = [app for app in apps if naming[app]]
    with_file = FILE.search(APP_LINE.sub(" ", goal)) is not None
    if with_file:  # the file rules judge the file; a file share holds it
        named = [
            app
            for app in named
            if not _FILE_APP.search(f"{app[0]} {app[2]}")
            and any(any(effects(s)) for s in naming[app])
        ]
    elif not named and len(apps) == 1 and any(_ELSEWHERE.match(v) for v in effects(goal)[1]):
        named = apps
    if not named:
        return None
    steps = [r for r in flatten(history) + flatten(attempt) if isinstance(r, ToolStep)]
    for label, url, line in named:
        if not any(_reaches(s, line) for s in steps):
            return (
                f"the goal is about {label} ({url}) and no action of the run reached it",
                f"Nothing was done in {label}: no action opened {url} or reached it from code. "
                f"Go there: open {url} with browser_goto, or reach it from code the way the "
                f"task's line for {label} says, and act there.",
            )
    changes = [
        r
        for r in flatten(attempt)
        if isinstance(r, ToolStep) and r.executed and not read_only(r.tool)
    ]
    if with_file:
        return None
    if changes and not any(_reaches(s, line) for s in changes for _, _, line in named):
        labels = " or ".join(label for label, _, _ in named)
        done = ", ".join(dict.fromkeys(s.tool for s in changes))
        return (
            f"the attempt's changes ({done}) did not reach {labels}",
            f"The goal asks for a change in {labels}, and the attempt only changed the "
            f"workspace ({done}): a file there is not {labels}. Make the change on "
            f"{labels}'s pages ({', '.join(url for _, url, _ in named)}).",
        )
    return None


_SERVER = r"\s+((?:\d{1,3}\.){3}\d{1,3}|localhost|[\w-]+(?:\.[\w-]+)+):(\d{2,5})"
_SMTP_AT = re.compile(r"\bSMTP\b(?:\s+(?:server|at|on))?" + _SERVER, re.IGNORECASE)
_IMAP_AT = re.compile(r"\bIMAP\b(?:\s+(?:server|at|on))?" + _SERVER, re.IGNORECASE)
_NO_TLS = re.compile(r"(?i)\b(?:without|no)\s+(?:TLS|SSL|encryption)\b")
_MAILBOX = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mail_account(task: str) -> MailAccount | None:
    """The mail account a task's line gives: its SMTP server (and IMAP server) with a login
    ("- Mail: webmail http://... (user `alex`, password `pw`); SMTP 127.0.0.1:2525 and IMAP
    127.0.0.1:1143 without TLS, same login"). The sender is the task's address whose name is
    the login (the preamble's "(`alex`, alex@acme.test)"). None when no line gives both a
    server and a login."""
    for line in task.splitlines():
        smtp, imap, login = _SMTP_AT.search(line), _IMAP_AT.search(line), line_login(line)
        if smtp is None or login is None:
            continue
        user, password = login
        mine = [a for a in _MAILBOX.findall(task) if a.split("@")[0].lower() == user.lower()]
        domains = [a.split("@")[1] for a in _MAILBOX.findall(task)]
        address = (
            user if "@" in user else (mine or [f"{user}@{(domains or [smtp.group(1)])[0]}"])[0]
        )
        return MailAccount(
            address=address,
            user=user,
            password=SecretStr(password),
            smtp_host=smtp.group(1),
            smtp_port=int(smtp.group(2)),
            imap_host=imap.group(1) if imap else None,
            imap_port=int(imap.group(2)) if imap else 143,
            tls="none" if _NO_TLS.search(line) else "starttls",
        )
    return None
