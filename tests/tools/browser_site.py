"""A small multi-page web site for the browser tests, served by a real WSGI server.

Pages: login, a paginated table, a profile form (select, checkbox, radio, date), a modal
dialog with confirm/alert, a link that opens a new tab, an upload form, a download, an
iframe, a page with 5,000 elements, and pages that try to reach a host outside the
allowlist. Everything the browser does lands in :class:`SiteState`, which tests assert.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

Start = Callable[[str, list[tuple[str, str]]], Any]
USER, PASSWORD = "alice", "wonderland"
ITEMS = [f"Item {i}" for i in range(1, 46)]


@dataclass
class SiteState:
    """Server-side state the tests assert on."""

    sessions: set[str] = field(default_factory=set)
    failed_logins: int = 0
    reserved: list[int] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    archived: int = 0
    approved: bool = False
    uploads: dict[str, bytes] = field(default_factory=dict)
    exports: int = 0
    comments: list[str] = field(default_factory=list)
    ticket: dict[str, str] = field(default_factory=dict)
    draft: dict[str, str] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body>{body}</body></html>"
    ).encode()


class Site:
    """The WSGI app; ``outside`` is the base URL of a host the browser must not reach."""

    def __init__(self, outside: str = "") -> None:
        self.state = SiteState()
        self.outside = outside
        self.base = ""

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ["REQUEST_METHOD"]
        self.state.hits.append(f"{method} {path}")
        public = {"/login", "/big", "/leaky", "/redirect-out", "/favicon.ico"}
        if path not in public and not self._logged_in(environ):
            return self._redirect(start, "/login")
        handler = getattr(
            self,
            f"_{method.lower()}_{path.strip('/').replace('/', '_').replace('.', '_').replace('-', '_') or 'root'}",
            None,
        )
        if handler is None:
            start("404 Not Found", [("Content-Type", "text/html")])
            return [_page("Not found", "<h1>Not found</h1>")]
        return handler(environ, start)

    # ------------------------------------------------------------------ helpers

    def _logged_in(self, environ: dict[str, Any]) -> bool:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        return "sid" in cookie and cookie["sid"].value in self.state.sessions

    @staticmethod
    def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        return parse_qs(environ["wsgi.input"].read(size).decode(), keep_blank_values=True)

    @staticmethod
    def _html(
        start: Start, title: str, body: str, headers: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        start("200 OK", [("Content-Type", "text/html; charset=utf-8"), *(headers or [])])
        return [_page(title, body)]

    @staticmethod
    def _redirect(
        start: Start, location: str, headers: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        start("303 See Other", [("Location", location), *(headers or [])])
        return [b""]

    # ------------------------------------------------------------------ pages

    def _get_login(self, environ: dict[str, Any], start: Start, error: str = "") -> list[bytes]:
        msg = f"<p role='alert'>{error}</p>" if error else ""
        return self._html(
            start,
            "Sign in",
            f"""
            <h1>Sign in</h1>{msg}
            <form method="post" action="/login">
              <label>Username <input name="username" required></label>
              <label>Password <input name="password" type="password" required></label>
              <label><input type="checkbox" name="remember"> Remember me</label>
              <button type="submit">Sign in</button>
            </form>""",
        )

    def _post_login(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        form = self._form(environ)
        if form.get("username") == [USER] and form.get("password") == [PASSWORD]:
            sid = secrets.token_hex(8)
            self.state.sessions.add(sid)
            return self._redirect(start, "/home", [("Set-Cookie", f"sid={sid}; Path=/; HttpOnly")])
        self.state.failed_logins += 1
        return self._get_login(environ, start, "Invalid username or password")

    def _get_home(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        links = [
            ("/items", "Inventory"),
            ("/profile", "Edit profile"),
            ("/account", "Account settings"),
            ("/reports", "Reports"),
            ("/upload", "Upload a document"),
            ("/export", "Exports"),
            ("/comments", "Comments"),
        ]
        nav = "".join(f"<li><a href='{h}'>{t}</a></li>" for h, t in links)
        return self._html(start, "Home", f"<h1>Welcome, {USER}</h1><nav><ul>{nav}</ul></nav>")

    def _get_items(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        page = max(1, min(5, int((query.get("page") or ["1"])[0])))
        rows = ""
        for number in range(page * 10 - 9, min(page * 10, len(ITEMS)) + 1):
            status = "reserved" if number in self.state.reserved else "available"
            rows += (
                f"<tr><td>{ITEMS[number - 1]}</td><td>{status}</td><td>"
                f"<form method='post' action='/items/reserve'><input type='hidden' name='id' value='{number}'>"
                f"<button aria-label='Reserve {ITEMS[number - 1]}'>Reserve</button></form></td></tr>"
            )
        pager = ""
        if page > 1:
            pager += f"<a href='/items?page={page - 1}'>Previous</a> "
        pager += f"<span>Page {page} of 5</span> "
        if page < 5:
            pager += f"<a href='/items?page={page + 1}'>Next</a>"
        return self._html(
            start,
            f"Inventory page {page}",
            f"""
            <h1>Inventory</h1><table><thead><tr><th>Name</th><th>Status</th><th></th></tr></thead>
            <tbody>{rows}</tbody></table><div class='pager'>{pager}</div>""",
        )

    def _post_items_reserve(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        number = int(self._form(environ)["id"][0])
        self.state.reserved.append(number)
        return self._redirect(start, f"/items?page={(number - 1) // 10 + 1}")

    def _get_profile(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        saved = "<p>Profile saved.</p>" if self.state.profile else ""
        return self._html(
            start,
            "Profile",
            f"""
            <h1>Profile</h1>{saved}
            <form method="post" action="/profile">
              <label for="fn">Full name</label> <input id="fn" name="full_name">
              <label>Country <select name="country">
                <option value="">Choose...</option><option value="fr">France</option>
                <option value="de">Germany</option><option value="jp">Japan</option></select></label>
              <label><input type="checkbox" name="newsletter" value="yes"> Subscribe to newsletter</label>
              <fieldset><legend>Plan</legend>
                <label><input type="radio" name="plan" value="basic" checked> Basic</label>
                <label><input type="radio" name="plan" value="pro"> Pro</label>
                <label><input type="radio" name="plan" value="enterprise"> Enterprise</label>
              </fieldset>
              <label>Start date <input type="date" name="start"></label>
              <label>Notes <textarea name="notes"></textarea></label>
              <button type="submit">Save profile</button>
            </form>""",
        )

    def _post_profile(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        form = self._form(environ)
        self.state.profile = {k: v[0] for k, v in form.items()}
        return self._redirect(start, "/profile")

    def _get_account(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        return self._html(
            start,
            "Account",
            """
            <h1>Account settings</h1>
            <p id="status">Account active</p>
            <button id="open" onclick="document.getElementById('dlg').showModal()">Delete account...</button>
            <button id="archive">Archive all records</button>
            <dialog id="dlg" aria-label="Confirm deletion">
              <p>Are you sure? This cannot be undone.</p>
              <button onclick="document.getElementById('dlg').close()">Cancel</button>
              <button id="yes">Yes, delete</button>
            </dialog>
            <script>
              document.getElementById('yes').onclick = async () => {
                await fetch('/api/delete', {method: 'POST'});
                document.getElementById('dlg').close();
                document.getElementById('status').textContent = 'Account deleted';
                alert('Your account was deleted');
              };
              document.getElementById('archive').onclick = async () => {
                if (confirm('Archive all records?')) {
                  await fetch('/api/archive', {method: 'POST'});
                  document.getElementById('status').textContent = 'Records archived';
                }
              };
            </script>""",
        )

    def _post_api_delete(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self.state.deleted = True
        start("204 No Content", [])
        return [b""]

    def _post_api_archive(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self.state.archived += 1
        start("204 No Content", [])
        return [b""]

    def _get_reports(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        return self._html(
            start,
            "Reports",
            """<h1>Reports</h1>
            <a href="/reports/q3" target="_blank">Open the Q3 report</a>""",
        )

    def _get_reports_q3(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        state = "Approved" if self.state.approved else "Waiting for approval"
        return self._html(
            start,
            "Q3 report",
            f"""<h1>Q3 report</h1><p>Revenue: 1.2M</p><p>{state}</p>
            <form method="post" action="/reports/q3"><button>Approve report</button></form>""",
        )

    def _post_reports_q3(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self._form(environ)
        self.state.approved = True
        return self._redirect(start, "/reports/q3")

    def _get_upload(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        names = "".join(f"<li>{html.escape(n)}</li>" for n in self.state.uploads)
        return self._html(
            start,
            "Upload",
            f"""<h1>Upload a document</h1>
            <form method="post" action="/upload" enctype="multipart/form-data">
              <label>Document <input type="file" name="doc"></label>
              <button type="submit">Upload</button>
            </form><ul>{names}</ul>""",
        )

    def _post_upload(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(size)
        head = f"Content-Type: {environ['CONTENT_TYPE']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + raw)
        for part in message.iter_parts():
            filename = part.get_filename()
            if filename:
                payload = part.get_payload(decode=True)
                self.state.uploads[filename] = payload if isinstance(payload, bytes) else b""
        return self._redirect(start, "/upload")

    def _get_export(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        return self._html(
            start,
            "Exports",
            """<h1>Exports</h1>
            <a href="/export.csv">Export inventory as CSV</a>""",
        )

    def _get_export_csv(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self.state.exports += 1
        body = ("id,name\n" + "".join(f"{i},{n}\n" for i, n in enumerate(ITEMS, 1))).encode()
        start(
            "200 OK",
            [
                ("Content-Type", "text/csv"),
                ("Content-Disposition", 'attachment; filename="inventory.csv"'),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    def _get_comments(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        return self._html(
            start,
            "Comments",
            """<h1>Comments</h1>
            <p>Post your comment in the embedded form.</p>
            <iframe name="comment-box" src="/comments/box" width="600" height="200"></iframe>""",
        )

    def _get_comments_box(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        items = "".join(f"<li>{html.escape(c)}</li>" for c in self.state.comments)
        return self._html(
            start,
            "Comment box",
            f"""
            <form method="post" action="/comments/box">
              <label>Comment <input name="comment"></label><button>Post comment</button>
            </form><ul>{items}</ul>""",
        )

    def _post_comments_box(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self.state.comments.append(self._form(environ)["comment"][0])
        return self._redirect(start, "/comments/box")

    def _get_messages(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        """Controls a script enables: Reply once a message is ticked, Refresh a moment
        after the page loads, Forward never (as a mail app's toolbar)."""
        return self._html(
            start,
            "Messages",
            """<h1>Messages</h1>
            <label><input type="checkbox" id="m1"
              onchange="document.getElementById('reply').disabled = !this.checked;
                        document.getElementById('note').disabled = !this.checked">
              Invoice 94411 from Priya</label>
            <button id="reply" disabled
              onclick="document.getElementById('status').textContent = 'Replying to Priya'">
              Reply</button>
            <a href="#" role="button" aria-disabled="true">Forward</a>
            <button id="refresh" disabled
              onclick="document.getElementById('status').textContent = 'Refreshed'">
              Refresh</button>
            <label>Note <input id="note" disabled></label>
            <p id="status">Nothing selected</p>
            <script>setTimeout(() => { document.getElementById('refresh').disabled = false }, 400)
            </script>""",
        )

    def _get_compose(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        """Options as a styled mail form draws them: each checkbox hidden under its own label
        (the label takes the pointer, as Bootstrap's custom controls do), and a menu whose
        items are in the page but not shown until its button opens it."""
        boxes = "".join(
            f"""<div style="position:relative;height:24px">
              <input type="checkbox" id="{key}" name="{key}"
                style="position:absolute;left:0;top:4px;margin:0;width:16px;height:16px">
              <label for="{key}" style="position:absolute;left:0;top:0;height:24px;
                padding-left:24px;background:rgba(255,255,255,0.01)">{label}</label></div>"""
            for key, label in (("receipt", "Return receipt"), ("keep", "Keep formatting"))
        )
        # a box of no size, drawn by its label alone
        boxes += """<input type="checkbox" id="dsn" name="dsn" style="width:0;height:0;margin:0;
          border:0;opacity:0"><label for="dsn">Delivery status notification</label>"""
        return self._html(
            start,
            "Compose",
            f"""<h1>Compose</h1><form method="post" action="/compose">{boxes}
            <button type="button" onclick="document.getElementById('more').style.visibility =
              'visible'">More</button>
            <button type="button" onclick="document.getElementById('more').style.visibility =
              'hidden'">Less</button>
            <div id="more" style="visibility:hidden"><a role="menuitem" href="/compose?spell"
              >Check spelling</a></div>
            <button type="submit">Save draft</button></form>""",
        )

    def _post_compose(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        form = self._form(environ)
        self.state.draft = {k: v[0] for k, v in form.items()}
        return self._html(start, "Draft saved", f"<p>Draft saved with {sorted(form)}</p>")

    def _get_ticket(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        """Folded parts, the ways sites fold them: a section under a heading link that a
        script opens (as Trac's "Modify Ticket"), a <details>, a button with
        aria-controls; a heading link that goes elsewhere next to a hidden field folds
        nothing."""
        return self._html(
            start,
            "Ticket 9",
            """<style>.collapsed > div { display: none }</style>
            <h1>#9 Checkout total</h1><p>Component: backend</p>
            <form method="post" action="/ticket">
              <div class="collapsed" id="modify-box">
                <h3><a id="no3" href="#no3">Modify Ticket</a></h3>
                <div><label for="c">Component:</label>
                  <select id="c" name="component"><option>backend</option>
                  <option>infrastructure</option></select>
                  <label for="p">Priority:</label><input id="p" name="priority" value="major">
                </div>
              </div>
              <details><summary>More fields</summary>
                <label>Keywords <input name="keywords"></label></details>
              <button type="button" aria-controls="cc-box" aria-expanded="false"
                onclick="document.getElementById('cc-box').hidden=false;
                         this.setAttribute('aria-expanded','true')">Cc list</button>
              <div id="cc-box" hidden><label>Cc <input name="cc"></label></div>
              <section><h2><a href="/items">All tickets</a></h2>
                <input name="filter" style="display:none"></section>
              <button>Submit changes</button>
            </form>
            <script>document.getElementById("no3").addEventListener("click", (ev) => {
              ev.preventDefault(); document.getElementById("modify-box").classList.toggle("collapsed");
            });</script>""",
        )

    def _post_ticket(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        self.state.ticket = {k: v[0] for k, v in self._form(environ).items()}
        return self._redirect(start, "/ticket")

    def _get_big(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        parts = []
        for i in range(2500):
            parts.append(f"<div><button>Action {i}</button><a href='/big#{i}'>Link {i}</a></div>")
        return self._html(start, "Big page", "<h1>5,000 elements</h1>" + "".join(parts))

    def _get_leaky(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        o = self.outside
        return self._html(
            start,
            "Leaky",
            f"""<h1>Leaky page</h1>
            <img src="{o}/pixel.png" alt="tracker">
            <script>fetch("{o}/beacon").catch(() => {{}});</script>
            <a href="{o}/elsewhere">Outside link</a>
            <a href="/redirect-out">Redirect out</a>""",
        )

    def _get_redirect_out(self, environ: dict[str, Any], start: Start) -> list[bytes]:
        start("302 Found", [("Location", f"{self.outside}/landed")])
        return [b""]


class Recorder:
    """A WSGI app that only records requests: the host outside the allowlist."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        self.hits.append(environ.get("PATH_INFO", "/"))
        start("200 OK", [("Content-Type", "text/html")])
        return [_page("Outside", "<h1>You left the allowlist</h1>")]


@contextmanager
def serve(app: Callable[..., Iterable[bytes]], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on ``host`` at a free port in a thread; yields its base URL."""
    server = make_server(host, 0, app, server_class=_Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
