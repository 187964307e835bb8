"""Input files a goal names that live on a server the task gives (a company file share):
copied into the workspace by code before the first step, on allowed hosts only.

Real HTTP servers on 127.0.0.1 (tests/tools/browser_site.py's), stopped by each test. The
paths, names and wordings are used nowhere else.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _agent_helpers import answer, call, file_registry, verdict

from agent.build import build_agent
from agent.inputs import fetch_inputs, fetched_note
from agent.llm import ScriptedLLM
from agent.runner import run_task

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import serve

LEDGER = "depot,litres\nnorth,30.5\nsouth,12\nnorth,5\n"


def _share(root: Path) -> Callable[..., Iterable[bytes]]:
    """A read-only file share: the file under ``root``; a listing (HTML, 200) for a folder
    and for a missing file in one, as some shares answer; else 404."""

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = root / environ.get("PATH_INFO", "/").lstrip("/")
        if path.is_file():
            start("200 OK", [("Content-Type", "text/csv")])
            return [path.read_bytes()]
        if path.is_dir() or path.parent.is_dir():
            start("200 OK", [("Content-Type", "text/html")])
            return [b"<html><body>listing</body></html>"]
        start("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def _redirect(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    start("302 Found", [("Location", "http://example.org/Fuel/ledger-31.csv")])
    return [b""]


@pytest.fixture
def share(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "share"
    (root / "Fuel").mkdir(parents=True)
    (root / "Fuel" / "ledger-31.csv").write_text(LEDGER)
    (root / "Fuel" / "index-page.txt").write_text("not asked for\n")
    with serve(_share(root)) as url:
        yield url


def task_text(url: str, goal: str) -> str:
    return (
        f"{goal}\n\nApps you can use:\n- Depot share: {url} (a listing in a browser; to upload, "
        f"`curl -T out.csv {url}/Uploads/out.csv`)"
    )


GOAL = "Total the `litres` of `Fuel/ledger-31.csv` per depot into `depots.csv` in your workspace."


def test_a_named_file_on_the_share_is_copied_and_nothing_else(share: str, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    got = fetch_inputs(GOAL, task_text(share, GOAL), ws, ["127.0.0.1"])
    assert got == [("Fuel/ledger-31.csv", f"{share}/Fuel/ledger-31.csv")]
    assert (ws / "Fuel" / "ledger-31.csv").read_text() == LEDGER
    assert sorted(p.name for p in ws.rglob("*") if p.is_file()) == ["ledger-31.csv"]
    note = fetched_note(got)
    assert f"from {share}/Fuel/ledger-31.csv" in note and "as Fuel/ledger-31.csv" in note
    # a second attempt: the copy is there, nothing is fetched or overwritten
    (ws / "Fuel" / "ledger-31.csv").write_text("depot,litres\nedited,1\n")
    assert fetch_inputs(GOAL, task_text(share, GOAL), ws, ["127.0.0.1"]) == []
    assert "edited" in (ws / "Fuel" / "ledger-31.csv").read_text()


def test_no_copy_from_a_host_not_allowed_a_redirect_or_a_listing(
    share: str, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    assert fetch_inputs(GOAL, task_text(share, GOAL), ws, ["files.example.org"]) == []
    with serve(_redirect) as url:
        assert fetch_inputs(GOAL, task_text(url, GOAL), ws, ["127.0.0.1"]) == []
    listing = "Summarise `Fuel/missing-9.csv` from the share into `fuel-notes.txt`."
    assert fetch_inputs(listing, task_text(share, listing), ws, ["127.0.0.1"]) == []
    assert not any(ws.iterdir())


async def test_the_first_observation_shows_the_copy_and_its_header(
    settings, workspace: Path, share: str
) -> None:
    llm = ScriptedLLM(
        [
            call("shell_run", command="awk -F, 'NR>1{t+=$2} END{print t}' Fuel/ledger-31.csv"),
            answer("47.5"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    goal = "How many litres does `Fuel/ledger-31.csv` on the depot share list in all?"
    result = await run_task(agent, task_text(share, goal))
    assert result.achieved
    first = "\n".join(m.content for m in llm.calls[0].messages if m.role == "user")
    assert f"code copied it from {share}/Fuel/ledger-31.csv" in first
    assert "columns (,-separated): depot, litres" in first


def test_an_address_with_no_server_is_passed_over(share: str, tmp_path: Path) -> None:
    """The task names a second app that is down: it is asked once and the share still gives
    its file; the name inside the example upload command is not looked for at all."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"
    ws = tmp_path / "ws"
    ws.mkdir()
    task = f"{GOAL}\n\nApps:\n- Tracker: {down}\n- Depot share: {share} (e.g. `curl -T out.csv {share}/Uploads/out.csv`)"
    got = fetch_inputs(GOAL + " Also `Fuel/absent-1.csv`.", task, ws, ["127.0.0.1"])
    assert got == [("Fuel/ledger-31.csv", f"{share}/Fuel/ledger-31.csv")]
    assert not (ws / "out.csv").exists()
