"""What oracle solutions do, as tool calls only (the same tools an agent gets).

Each high-level action is one or a few calls of the registry's tools through a
:class:`~tools.ToolContext`: ``file_write`` for workspace files, and ``shell_run`` running
``acme_client.py`` (stdlib Python, copied into the workspace once) for the apps' web forms,
WebDAV, SMTP, IMAP, CalDAV and XMPP. Every call is counted in :attr:`Actions.calls`.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.tasks import Task
from tools import ToolContext, ToolRegistry, ToolResult

_CLIENT = Path(__file__).with_name("acme_client.py")
_CLIENT_IN_WS = ".oracle/acme_client.py"


class OracleError(RuntimeError):
    """A tool call of an oracle failed: the solution (or an app) is broken."""


class Actions:
    """The oracle's hands: tool calls, plus shortcuts for the Acme apps."""

    def __init__(self, task: Task, urls: dict[str, str], registry: ToolRegistry, ctx: ToolContext):
        self.task = task
        self.urls = urls
        self.params: dict[str, Any] = task.spec.params
        self.registry = registry
        self.ctx = ctx
        self.calls: list[str] = []
        self._client_ready = False
        self.page: dict[str, Any] = {}

    async def call(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Call one tool; raise :class:`OracleError` if it reports an error."""
        self.calls.append(name)
        res = await self.registry.call(name, args, self.ctx)
        if res.error:
            raise OracleError(f"{name}({args}) failed: {res.error}\n{res.output[-1500:]}")
        return res

    async def shell(self, command: str) -> str:
        """Run a shell command; return its stdout."""
        res = await self.call("shell_run", {"command": command, "timeout_s": 60})
        lines = res.output.split("\n")[2:]  # "$ command", "[exit code 0, ...]"
        if "[stderr]" in lines:
            lines = lines[: lines.index("[stderr]")]
        text = "\n".join(lines)
        return "" if text == "(no output)" else text

    async def write(self, path: str, content: str) -> None:
        """Write a workspace file."""
        await self.call("file_write", {"path": path, "content": content})

    async def client(self, *args: str) -> str:
        """Run ``acme_client.py`` with these arguments; return its stdout."""
        if not self._client_ready:
            await self.write(_CLIENT_IN_WS, _CLIENT.read_text())
            self._client_ready = True
        return await self.shell("python3 " + shlex.join([_CLIENT_IN_WS, *args]))

    # -- browser ---------------------------------------------------------------------
    def _remember(self, res: ToolResult) -> None:
        if isinstance(res.data, dict) and "elements" in res.data:
            self.page = res.data

    def find(self, name: str, role: str | None = None) -> int:
        """The id of the first element on the current page with this name (and role)."""
        for el in self.page.get("elements", []):
            if el.get("name") == name and (role is None or el.get("role") == role):
                return int(el["id"])
        names = [f"{e.get('role')} {e.get('name')!r}" for e in self.page.get("elements", [])]
        raise OracleError(
            f"no {role or 'element'} named {name!r} on {self.page.get('url')}: {names}"
        )

    async def goto(self, url: str) -> None:
        """Open a page in the browser."""
        self._remember(await self.call("browser_goto", {"url": url}))

    async def click(self, name: str, role: str | None = None) -> None:
        """Click the element with this name."""
        self._remember(await self.call("browser_click", {"element_id": self.find(name, role)}))

    async def type(self, name: str, text: str, role: str = "textbox") -> None:
        """Replace the text of a field."""
        args = {"element_id": self.find(name, role), "text": text, "clear": True}
        self._remember(await self.call("browser_type", args))

    async def select(self, name: str, option: str) -> None:
        """Choose an option of a select box."""
        args = {"element_id": self.find(name, "combobox"), "options": [option]}
        self._remember(await self.call("browser_select", args))

    async def tick(self, name: str, role: str = "checkbox") -> None:
        """Check a checkbox or radio button."""
        args = {"element_id": self.find(name, role), "checked": True}
        self._remember(await self.call("browser_check", args))

    # -- Trac in the browser -----------------------------------------------------------
    async def trac_browser_update(
        self,
        ticket: int,
        *,
        comment: str = "",
        action: str | None = None,
        resolution: str | None = None,
        owner: str | None = None,
        fields: dict[str, str] | None = None,
    ) -> None:
        """Change a ticket through its web page: expand "Modify Ticket", set, submit."""
        await self.goto(f"{self.urls['trac_url']}/ticket/{ticket}")
        await self.click("Modify Ticket", "link")
        for label, value in (fields or {}).items():
            await self.select(f"{label}:", value)
        if action:
            await self.tick(action, "radio")
        if resolution:
            await self.select("action_resolve_resolve_resolution", resolution)
        if owner:
            await self.type("action_reassign_reassign_owner", owner)
        if comment:
            await self.type("You may use WikiFormatting here.", comment)
        await self.click("Submit changes", "button")

    async def trac_browser_wiki(self, name: str, text: str) -> None:
        """Create or replace a wiki page through its edit form."""
        await self.goto(f"{self.urls['trac_url']}/wiki/{name}?action=edit")
        await self.type("text", text)
        await self.click("Submit changes", "button")

    async def trac_browser_milestone(self, name: str, due: str, description: str) -> None:
        """Add a milestone through the roadmap's "new milestone" form."""
        await self.goto(f"{self.urls['trac_url']}/milestone?action=new")
        await self.type("Name:", name)
        await self.tick("Due:")
        date_field = "Format: YYYY-MM-DDThh:mm:ss±hh:mm"
        await self.type(date_field, f"{due}T00:00:00+00:00")
        # the date picker takes a typed value only on a key event inside the field
        args = {"keys": "End", "element_id": self.find(date_field)}
        self._remember(await self.call("browser_press", args))
        await self.type("Description: You may use WikiFormatting here.", description)
        await self.click("Add milestone", "button")

    # -- Trac ------------------------------------------------------------------------
    async def trac_new_ticket(self, **fields: str) -> int:
        """Create a ticket; return its number."""
        args = [f"--field={k}={v}" for k, v in fields.items()]
        out = await self.client("trac-new", "--url", self.urls["trac_url"], *args)
        return int(out.strip().splitlines()[-1])

    async def trac_update(
        self,
        ticket: int,
        *,
        comment: str = "",
        action: str | None = None,
        resolution: str | None = None,
        owner: str | None = None,
        **fields: str,
    ) -> None:
        """Comment on / change fields of / run a workflow action on a ticket."""
        args = ["trac-update", "--url", self.urls["trac_url"], "--id", str(ticket)]
        if comment:
            args += ["--comment", comment]
        if action:
            args += ["--action", action]
        if resolution:
            args += ["--resolution", resolution]
        if owner:
            args += ["--owner", owner]
        args += [f"--field={k}={v}" for k, v in fields.items()]
        await self.client(*args)

    async def trac_query(self, query: str = "status=!closed") -> list[dict[str, str]]:
        """Tickets matching a Trac query string (lower-case column names)."""
        out = await self.client("trac-query", "--url", self.urls["trac_url"], "--query", query)
        return list(json.loads(out))

    async def trac_ticket(self, ticket: int) -> dict[str, str]:
        """One ticket's fields."""
        out = await self.client("trac-ticket", "--url", self.urls["trac_url"], "--id", str(ticket))
        return dict(json.loads(out))

    async def trac_wiki(self, name: str, text: str) -> None:
        """Create or replace a wiki page."""
        path = f".oracle/wiki-{name.replace('/', '_')}.txt"
        await self.write(path, text)
        await self.client(
            "trac-wiki", "--url", self.urls["trac_url"], "--name", name, "--text-file", path
        )

    async def trac_milestone(
        self, name: str, due: str | None = None, description: str = ""
    ) -> None:
        """Add a milestone (due as YYYY-MM-DD)."""
        args = ["trac-milestone", "--url", self.urls["trac_url"], "--name", name]
        if due:
            args += ["--due", due]
        if description:
            args += ["--description", description]
        await self.client(*args)

    # -- files -----------------------------------------------------------------------
    async def files_get(self, path: str) -> str:
        """A file from the share."""
        return await self.client("dav-get", "--url", self.urls["files_url"], "--path", path)

    async def files_put(self, path: str, content: str, *, local: str | None = None) -> None:
        """Write ``content`` to a workspace file, then upload it to the share at ``path``."""
        local = local or f".oracle/upload/{Path(path).name}"
        await self.write(local, content)
        await self.client(
            "dav-put", "--url", self.urls["files_url"], "--path", path, "--file", local
        )

    # -- mail ------------------------------------------------------------------------
    async def mail_send(
        self, to: list[str], subject: str, body: str, cc: list[str] | None = None
    ) -> None:
        """Send a message as alex through the company SMTP server."""
        args = ["mail-send", "--port", self.urls["smtp_port"], "--sender", "alex@acme.test"]
        args += [f"--to={t}" for t in to] + [f"--cc={c}" for c in cc or []]
        await self.client(*args, "--subject", subject, "--body", body)

    async def mail_inbox(self) -> list[dict[str, str]]:
        """alex's inbox over IMAP: from, subject, body."""
        out = await self.client(
            "mail-list",
            "--port",
            self.urls["imap_port"],
            "--user",
            "alex",
            "--password",
            "alex-acme-2026",
        )
        return list(json.loads(out))

    # -- calendar --------------------------------------------------------------------
    async def calendar_add(
        self,
        uid: str,
        summary: str,
        start: datetime,
        end: datetime,
        *,
        attendees: list[str] = (),  # type: ignore[assignment]
        location: str = "",
        user: str = "alex",
    ) -> None:
        """Store an event in a user's calendar by CalDAV PUT."""

        def fmt(moment: datetime) -> str:
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//oracle//EN", "BEGIN:VEVENT"]
        lines += [
            f"UID:{uid}",
            f"DTSTAMP:{fmt(start)}",
            f"DTSTART:{fmt(start)}",
            f"DTEND:{fmt(end)}",
        ]
        lines += [f"SUMMARY:{summary}"] + ([f"LOCATION:{location}"] if location else [])
        lines += [f"ATTENDEE:mailto:{a}@acme.test" for a in attendees]
        lines += ["END:VEVENT", "END:VCALENDAR", ""]
        path = f".oracle/{uid}.ics"
        await self.write(path, "\r\n".join(lines))
        await self.client(
            "cal-put",
            "--url",
            self.urls["calendar_url"],
            "--user",
            user,
            "--uid",
            uid,
            "--ics-file",
            path,
        )

    # -- chat ------------------------------------------------------------------------
    async def chat_ask(self, to: str, body: str) -> str:
        """Send a chat message as alex and return the colleague's reply."""
        return (
            await self.client(
                "chat-send",
                "--port",
                self.urls["xmpp_port"],
                "--user",
                "alex",
                "--password",
                "alex-acme-2026",
                "--to",
                to,
                "--body",
                body,
                "--expect-reply",
            )
        ).strip()
