"""Sign-in forms the task gives the login for: which field takes which value, said by code.

Office tasks name their apps with a login ("Mail: webmail http://host:port (user `alex`,
password `...`)"). The 1.5B model, shown the app's sign-in form, typed nothing, or clicked ids
it had seen before, or wrote the reply with `echo`: it never connected the login in the task
to the fields on the page. When an observation shows a sign-in form (a password box, a text
box before it, a button after it) on an address the task gives a login for, the executor
adds a note naming the two fields and the button. The login comes from the task, never from
the page, and only for the origin the task gives it for: a page elsewhere that looks like a
sign-in form gets nothing.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# a web address in a task's text, and a line of its list of apps ("- Trac (tickets):
# http://..."), shared by the modules that read the task's apps (agent.apps, agent.folded,
# agent.targets)
WEB_ADDRESS = re.compile(r"https?://[^\s`'\"<>()\[\],;]+")
APP_LINE = re.compile(r"^\s*[-*\u2022].*https?://.*$", re.MULTILINE)
# the address line of a browser observation (agent.apps, agent.mailbox)
URL_LINE = re.compile(r"^URL: (\S+)", re.MULTILINE)
_USER = re.compile(
    r"\b(?:user(?:name)?|log ?in(?: as)?|sign in as)\b\s*[:=]?\s*`?([\w.@+-]+)`?", re.IGNORECASE
)
_PASSWORD = re.compile(r"\bpassword\b\s*[:=]?\s*(?:`([^`\n]+)`|([^\s`,;)]+))", re.IGNORECASE)
_ELEMENT = re.compile(r'^\[(\d+)\] (\w+) "([^"]*)"(.*)$', re.MULTILINE)
_PASSWORD_FIELD = re.compile(r"pass(?:word|wort|code)?\b|\bpin\b", re.IGNORECASE)


def origin(url: str) -> str:
    """``scheme://host:port`` of an address, lowercased."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def logins(task: str) -> dict[str, tuple[str, str]]:
    """``origin -> (user, password)`` for each address a line of the task gives a login
    with ("webmail http://127.0.0.1:8080 (user `alex`, password `s3cret`)")."""
    out: dict[str, tuple[str, str]] = {}
    for line in task.splitlines():
        login = line_login(line)
        if login is None:
            continue
        for url in WEB_ADDRESS.findall(line):
            out.setdefault(origin(url.rstrip(".")), login)
    return out


def line_login(line: str) -> tuple[str, str] | None:
    """``(user, password)`` a line of the task gives ("(user `alex`, password `s3cret`)")."""
    prose = WEB_ADDRESS.sub(" ", line)  # "/login as ..." in an address is no login
    user, password = _USER.search(prose), _PASSWORD.search(prose)
    if user is None or password is None:
        return None
    # a quoted password as it is; a bare one without the sentence's full stop
    return user.group(1).rstrip("."), password.group(1) or password.group(2).rstrip(".")


def login_note(task: str, observation: str) -> str | None:
    """The note for a sign-in form on an origin the task gives a login for, else None."""
    url = next((ln[4:].strip() for ln in observation.splitlines() if ln.startswith("URL:")), "")
    login = logins(task).get(origin(url)) if url.startswith("http") else None
    if login is None:
        return None
    elements = [
        (int(m.group(1)), m.group(2), m.group(3), m.group(4))
        for m in _ELEMENT.finditer(observation.split("Page text:", 1)[0])
    ]
    at = next(
        (i for i, (_, role, name, rest) in enumerate(elements)
         if role == "textbox" and _PASSWORD_FIELD.search(f"{name} {rest}")),
        None,
    )  # fmt: skip
    if at is None:
        return None
    user_field = next((e for e in reversed(elements[:at]) if e[1] == "textbox"), None)
    button = next((e for e in elements[at + 1 :] if e[1] == "button"), None)
    if user_field is None or button is None:
        return None
    password_field = elements[at]
    user, password = login
    if f'value="{user}"' in user_field[3] and 'value="' in password_field[3]:
        return None  # filled in already: the button is what is left
    # "password: x", the form the memory's redaction removes, should a note reach the store
    return (
        f"This page is a sign-in form, and the task gives the login for {origin(url)} (user: "
        f"{user}, password: {password}): type {user} into [{user_field[0]}] "
        f"({user_field[2]!r}) and the password into [{password_field[0]}] "
        f"({password_field[2]!r}), then press [{button[0]}] ({button[2]!r})."
    )
