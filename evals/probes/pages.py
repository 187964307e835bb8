"""Ten small pages, each computing its own reward, served on 127.0.0.1.

Each page renders its controls a little after ``load`` (as many real pages do) and, when
its final button is pressed, computes in the page whether the instruction was followed and
posts the reward (1 or 0) to the server. The server only records what the page reports;
:func:`reward` reads it. Standalone (no project imports) so the same pages can measure
another branch: ``PYTHONPATH=/path/to/branch python evals/probes/run_pages.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

_SHELL = """<!doctype html><html><head><title>{title}</title></head><body>
<p id=loading>Loading...</p><div id=app></div>
<script>
function report(ok) {{
  fetch('/reward/{name}', {{method: 'POST', body: JSON.stringify({{reward: ok ? 1 : 0}})}});
  document.getElementById('app').innerHTML = '<p>Thank you, your answer was recorded.</p>';
}}
const val = (id) => document.getElementById(id).value;
const on = (id) => document.getElementById(id).checked;
setTimeout(() => {{
  document.getElementById('loading').remove();
  document.getElementById('app').innerHTML = `{body}`;
  {script}
}}, {delay});
</script></body></html>"""


@dataclass(frozen=True)
class Page:
    """One page: its task instruction, controls (HTML) and the script that judges them."""

    name: str
    title: str
    instruction: str
    body: str
    script: str = ""
    delay_ms: int = 500

    def html(self) -> str:
        return _SHELL.format(
            title=self.title, name=self.name, body=self.body, script=self.script,
            delay=self.delay_ms,
        )  # fmt: skip


def _buttons(names: list[str], right: str) -> str:
    return "".join(
        f'<button onclick="report({"true" if n == right else "false"})">{n}</button> '
        for n in names
    )


PAGES: list[Page] = [
    Page(
        "publish",
        "Draft article",
        "Click the 'Publish' button.",
        "<h1>Draft: Spring news</h1>" + _buttons(["Cancel", "Archive", "Publish"], "Publish"),
    ),
    Page(
        "invoice",
        "Invoices",
        "Approve invoice 17 by clicking its button.",
        "<h1>Open invoices</h1>"
        + "".join(
            f'<p>Invoice {i} <button onclick="report({"true" if i == 17 else "false"})">'
            f"Approve invoice {i}</button></p>"
            for i in (12, 17, 23)
        ),
        delay_ms=300,
    ),
    Page(
        "word",
        "Word of the day",
        "Type the word 'harbor' into the Word field and press Submit.",
        "<label>Word <input id=w></label>"
        "<button onclick=\"report(val('w').trim().toLowerCase() === 'harbor')\">Submit</button>",
    ),
    Page(
        "comment",
        "Review",
        "Write the comment 'ship it' in the Comment box and press Send.",
        "<label>Comment <textarea id=c></textarea></label>"
        "<button onclick=\"report(val('c').trim().toLowerCase() === 'ship it')\">Send</button>",
        delay_ms=700,
    ),
    Page(
        "colours",
        "Colours",
        "Tick the checkboxes Red and Green (and not Blue), then press Save.",
        "<label><input type=checkbox id=r> Red</label> <label><input type=checkbox id=g> Green"
        "</label> <label><input type=checkbox id=b> Blue</label> "
        "<button onclick=\"report(on('r') && on('g') && !on('b'))\">Save</button>",
    ),
    Page(
        "terms",
        "Sign up",
        "Tick 'I agree to the terms' and press Continue.",
        "<label><input type=checkbox id=t> I agree to the terms</label> "
        "<label><input type=checkbox id=m> Send me offers</label> "
        "<button onclick=\"report(on('t') && !on('m'))\">Continue</button>",
        delay_ms=400,
    ),
    Page(
        "city",
        "Travel",
        "Choose Lisbon from the City list and press Confirm.",
        "<label>City <select id=s><option>Berlin</option><option>Lisbon</option>"
        "<option>Oslo</option></select></label>"
        "<button onclick=\"report(val('s') === 'Lisbon')\">Confirm</button>",
    ),
    Page(
        "shipping",
        "Checkout",
        "Select 'Express' as the shipping method and press Apply.",
        "<label>Shipping method <select id=s><option>Standard</option><option>Express</option>"
        "<option>Pickup</option></select></label>"
        "<button onclick=\"report(val('s') === 'Express')\">Apply</button>",
        delay_ms=600,
    ),
    Page(
        "plan",
        "Subscribe",
        "Enter the last name 'Rivera', press Next, then choose the plan 'Pro' and press Finish.",
        "<div id=s1><label>Last name <input id=n></label>"
        "<button onclick=\"document.getElementById('s1').hidden = true; "
        "document.getElementById('s2').hidden = false\">Next</button></div>"
        "<div id=s2 hidden><label>Plan <select id=p><option>Basic</option><option>Pro</option>"
        "</select></label><button onclick=\"report(val('n').trim() === 'Rivera' && "
        "val('p') === 'Pro')\">Finish</button></div>",
    ),
    Page(
        "newsletter",
        "Newsletter",
        "Enter the email kim@acme.test, press Next, then tick 'Weekly digest' and press Submit.",
        "<div id=s1><label>Email <input id=e type=email></label>"
        "<button onclick=\"document.getElementById('s1').hidden = true; "
        "document.getElementById('s2').hidden = false\">Next</button></div>"
        "<div id=s2 hidden><label><input type=checkbox id=d> Weekly digest</label>"
        "<button onclick=\"report(val('e').trim() === 'kim@acme.test' && on('d'))\">"
        "Submit</button></div>",
        delay_ms=300,
    ),
]


class Rewards:
    """What the pages reported, by page name (a WSGI app serving the pages too)."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self._lock = threading.Lock()

    def reward(self, name: str) -> int:
        """The page's own reward: 1 when its last report said the task was done, else 0."""
        with self._lock:
            return self.values.get(name, 0)

    def reset(self) -> None:
        with self._lock:
            self.values.clear()

    def __call__(self, environ: dict[str, Any], start: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"].strip("/")
        if environ["REQUEST_METHOD"] == "POST" and path.startswith("reward/"):
            size = int(environ.get("CONTENT_LENGTH") or 0)
            data = json.loads(environ["wsgi.input"].read(size) or b"{}")
            with self._lock:
                self.values[path.removeprefix("reward/")] = int(data.get("reward", 0))
            start("204 No Content", [])
            return [b""]
        page = next((p for p in PAGES if p.name == path), None)
        if page is None:
            start("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such page"]
        start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.html().encode()]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve(rewards: Rewards) -> Iterator[str]:
    """Serve the pages on 127.0.0.1 at a free port; yields the base URL."""
    server = make_server("127.0.0.1", 0, rewards, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def task_text(page: Page, base: str) -> str:
    """The task as a user would type it."""
    return f"Open {base}/{page.name} and do this: {page.instruction}"
