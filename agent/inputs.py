"""Look before you compute: the shape of the input files a goal names, read by code.

A small model that has not seen a table's header guesses its column names (``amount``
for ``revenue``), fails on the KeyError, and spends a dozen calls recovering. The first
observation of an attempt therefore shows each named input: for tables the header and
first rows (and the row count), for text the first lines. No model call is made.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from agent.outputs import FILE, without_examples
from tools.browser.allowlist import HostAllowlist

TABLE = (".csv", ".tsv")
TEXT = (".txt", ".md", ".json", ".py", ".yaml", ".yml", ".xml", ".html", ".ics")
ROWS = 3
LINES = 5
LINE_CHARS = 200
READ_BYTES = 64_000


def input_files(goal: str, workspace: Path | None, outputs: set[str] | None = None) -> list[str]:
    """Workspace files the goal names that exist and that the run did not write."""
    if workspace is None:
        return []
    names = dict.fromkeys(m.group(1) for m in FILE.finditer(goal or ""))
    root = workspace.resolve()
    out = []
    for n in names:
        path = (workspace / n).resolve()
        if n not in (outputs or set()) and path.is_relative_to(root) and path.is_file():
            out.append(n)
    return out


def shape(path: Path) -> str:
    """A short description of one file: header and first rows, or first lines."""
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix not in TABLE + TEXT:
        return f"{size} bytes ({suffix.lstrip('.') or 'binary'}; read it with a tool)"
    with path.open("rb") as f:
        head = f.read(READ_BYTES).decode("utf-8", errors="replace")
    if suffix in TABLE:
        delimiter = "\t" if suffix == ".tsv" else ","
        rows = list(csv.reader(io.StringIO(head), delimiter=delimiter))
        if not rows:
            return "empty"
        total = _count_lines(path) - 1 if size > READ_BYTES else len(rows) - 1
        sep = "\\t" if delimiter == "\t" else ","
        lines = [f"columns ({sep}-separated): {', '.join(rows[0])}"]
        lines += [delimiter.join(r)[:LINE_CHARS] for r in rows[1 : ROWS + 1]]
        lines.append(f"({total} data rows)")
        return "\n".join(lines)
    lines = head.splitlines()
    shown = [line[:LINE_CHARS] for line in lines[:LINES]]
    more = len(lines) - LINES if size <= READ_BYTES else None
    tail = f"\n(... {more} more lines)" if more and more > 0 else ""
    if more is None:
        tail = "\n(... more lines)"
    return "\n".join(shown) + tail if shown else "empty"


def header_names(workspace: Path | None, names: list[str]) -> list[str]:
    """The column names of the tables among ``names`` (first row of each)."""
    out: list[str] = []
    for name in names:
        if workspace is None or not name.lower().endswith(TABLE):
            continue
        with (workspace / name).open(encoding="utf-8", errors="replace") as f:
            first = f.readline()[:4000]
        delimiter = "\t" if name.lower().endswith(".tsv") else ","
        out += [c.strip() for row in csv.reader([first], delimiter=delimiter) for c in row]
    return out


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def input_shapes(goal: str, workspace: Path | None, outputs: set[str] | None = None) -> str:
    """The note that opens an attempt whose goal names input files ("" when it names none)."""
    parts = []
    for name in input_files(goal, workspace, outputs):
        assert workspace is not None
        parts.append(f"{name}:\n{shape(workspace / name)}")
    if not parts:
        return ""
    return (
        "The input files, as they are now (use these exact column names; compute with a "
        "tool that reads the file):\n" + "\n\n".join(parts)
    )


# Where a task says its files live: every http(s) address it gives ("File share:
# http://127.0.0.1:8080 (...)"); a file the goal names and the workspace lacks is looked
# for under each (its origin, and the address itself when it names a folder).
_ADDRESS = re.compile(r"https?://[^\s`'\"<>()\[\]]+")
FETCH_BYTES = 5_000_000
FETCH_TIMEOUT_S = 3.0
MAX_TRIES = 24


# A command quoted with a remote address, as an example of how to use an app ("to upload,
# use WebDAV, e.g. `curl -T report.csv http://host/Folder/report.csv`", `scp a.csv
# me@host:/srv/`): the files it names are the example's, not the task's.
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect could lead off the allowed hosts: not followed


def _bases(task: str, allowed: HostAllowlist) -> list[str]:
    out: list[str] = []
    for m in _ADDRESS.finditer(task):
        url = m.group(0).rstrip(".,;:")
        parts = urlsplit(url)
        if allowed.check(url) is not None:
            continue
        out.append(f"{parts.scheme}://{parts.netloc}")
        if parts.path.strip("/") and not PurePosixPath(parts.path).suffix:
            out.append(url.rstrip("/"))
    return list(dict.fromkeys(out))


def fetch_inputs(
    goal: str, task: str, workspace: Path | None, allowed_hosts: list[str]
) -> list[tuple[str, str]]:
    """Copy into the workspace the files the goal names that are not there but that a
    server the task gives serves (a company file share): ``(name, url)`` of each copy.

    Read-only GETs, on allowed hosts only, no redirects, 5 MB at most; a name already in
    the workspace is never touched. The model then reads a local file instead of guessing
    where the share keeps it (the 1.5B model looked for ``Finance/x.csv`` in the workspace
    and under the example upload path, and never found it)."""
    if workspace is None:
        return []
    allowed = HostAllowlist(allowed_hosts)
    bases = _bases(task or goal, allowed)
    root = workspace.resolve()
    names = [
        n
        for n in dict.fromkeys(m.group(1) for m in FILE.finditer(without_examples(goal or "")))
        if ".." not in PurePosixPath(n).parts
        and (root / n).resolve().is_relative_to(root)
        and not (root / n).exists()
    ]
    opener = urllib.request.build_opener(_NoRedirect)
    fetched: list[tuple[str, str]] = []
    tries = 0
    dead: set[str] = set()  # addresses with no server: not asked again for the next names
    for name in names:
        for base in [b for b in bases if b not in dead]:
            if tries >= MAX_TRIES:
                return fetched
            tries += 1
            url = f"{base}/{urllib.parse.quote(name)}"
            try:
                with opener.open(url, timeout=FETCH_TIMEOUT_S) as resp:
                    kind = resp.headers.get_content_type()
                    body = resp.read(FETCH_BYTES + 1)
            except urllib.error.HTTPError:
                continue  # not there (404): the next address
            except (OSError, ValueError):
                dead.add(base)  # refused, or no server
                continue
            if len(body) > FETCH_BYTES or (
                kind == "text/html" and not name.lower().endswith((".html", ".htm"))
            ):
                continue  # a listing or an error page, not the file
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            fetched.append((name, url))
            break
    return fetched


def fetched_note(fetched: list[tuple[str, str]]) -> str:
    """What the opening note says about the copies (\"\" when none was made)."""
    return "\n".join(
        f"{name} is not a workspace file: code copied it from {url} into the workspace as "
        f"{name} (read and compute from that copy)."
        for name, url in fetched
    )
