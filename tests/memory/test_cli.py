"""`journeyman memory ...` end to end through Typer (real store in a tmp dir)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from agent.cli import app as root
from memory import MemorySettings, MemoryStore

runner = CliRunner()


def invoke(args: list[str], **kwargs: Any) -> Result:
    """`journeyman memory ARGS` through the root app, whose boundary reports errors."""
    return runner.invoke(root, ["memory", *args], **kwargs)


def _store(tmp_path: Path) -> tuple[str, list[str]]:
    path = tmp_path / "mem"
    with MemoryStore.open(path) as store:
        ids = [
            store.add(
                level="procedural",
                scope="app/trac/tickets",
                title="Close a Trac ticket",
                content="Expand Modify Ticket, resolve as fixed, submit.",
            ).id,
            store.add(
                level="strategic",
                scope="global",
                title="Verify before done",
                content="Check the app's state before reporting success.",
            ).id,
        ]
    return str(path), ids


def _ok(*args: str) -> str:
    res = invoke(list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_read_commands(tmp_path: Path) -> None:
    mem, ids = _store(tmp_path)
    assert json.loads(_ok("stats", "--memory", mem, "--json"))["active"] == 2
    assert "tickets" in _ok("tree", "--memory", mem)
    assert len(json.loads(_ok("list", "--memory", mem, "--json"))) == 2
    assert ids[0] in _ok("list", "--memory", mem, "--level", "procedural")
    assert (
        json.loads(_ok("show", ids[0], "--memory", mem, "--json"))["title"] == "Close a Trac ticket"
    )
    hits = json.loads(_ok("search", "resolve a ticket", "--memory", mem, "--json"))
    assert hits[0]["id"] == ids[0] and hits[0]["score"] > 0
    assert "2 hit(s)" in _ok("search", "resolve a ticket", "--memory", mem)
    assert json.loads(_ok("history", ids[0], "--memory", mem, "--json"))[0]["version"] == 1


def test_write_commands(tmp_path: Path) -> None:
    mem, ids = _store(tmp_path)
    _ok("retire", ids[0], "--memory", mem)
    assert json.loads(_ok("show", ids[0], "--memory", mem, "--json"))["status"] == "retired"
    _ok("revert", ids[0], "1", "--memory", mem)
    assert json.loads(_ok("show", ids[0], "--memory", mem, "--json"))["status"] == "active"
    _ok("snapshot", "s1", "--memory", mem)
    _ok("retire", ids[1], "--memory", mem)
    assert "restored s1" in _ok("restore", "s1", "--memory", mem)
    assert json.loads(_ok("show", ids[1], "--memory", mem, "--json"))["status"] == "active"
    out = tmp_path / "x.jsonl"
    _ok("export", str(out), "--memory", mem)
    other = str(tmp_path / "other")
    assert "2 added" in _ok("import", str(out), "--memory", other)
    assert "ok" in _ok("verify", "--memory", mem)
    assert "index rebuilt" in _ok("reindex", "--memory", mem)
    assert "nothing to retire" in _ok("curate", "--memory", mem)
    _ok("approve", ids[1], "--memory", mem)
    res = invoke(["purge", ids[0], "--memory", mem], input="n\n")
    assert res.exit_code == 1
    _ok("purge", ids[0], "--memory", mem, "--yes")
    assert invoke(["show", ids[0], "--memory", mem]).exit_code == 2


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    mem, _ids = _store(tmp_path)
    for args in (
        ["show", "nope"],
        ["list", "--level", "bogus"],
        ["revert", "nope", "1"],
        ["snapshot", "../x"],
        ["restore", "missing"],
    ):
        res = invoke([*args, "--memory", mem])
        assert res.exit_code == 2, (args, res.output)
        assert "error:" in res.output and len(res.output.strip().splitlines()) == 1
    res = invoke(["stats", "--memory", str(tmp_path / "none")])
    assert res.exit_code == 2


def test_commands_on_a_postgres_store(
    pg_store_settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The same commands against PostgreSQL + a Chroma server, configured as a team would
    (JOURNEYMAN_MEMORY__BACKEND, __URL, __INDEX_URL); the folder keeps only snapshots."""
    settings = pg_store_settings()
    monkeypatch.setenv("JOURNEYMAN_MEMORY__BACKEND", "postgres")
    monkeypatch.setenv("JOURNEYMAN_MEMORY__URL", settings.url)
    monkeypatch.setenv("JOURNEYMAN_MEMORY__INDEX_URL", settings.index_url)
    mem = str(tmp_path / "team")
    with MemoryStore.open(mem, settings=settings) as store:
        first = store.add(
            level="procedural",
            scope="app/trac/tickets",
            title="Close a Trac ticket",
            content="Expand Modify Ticket, resolve as fixed, submit.",
        ).id
    stats = json.loads(_ok("stats", "--memory", mem, "--json"))
    assert stats["backend"] == "postgres" and stats["active"] == 1
    assert stats["index"]["in_sync"]
    assert (
        json.loads(_ok("search", "resolve a ticket", "--memory", mem, "--json"))[0]["id"] == first
    )
    _ok("snapshot", "s1", "--memory", mem)
    _ok("retire", first, "--memory", mem)
    assert "restored s1" in _ok("restore", "s1", "--memory", mem)
    assert json.loads(_ok("show", first, "--memory", mem, "--json"))["status"] == "active"
    assert "ok" in _ok("verify", "--memory", mem)
    assert "index rebuilt" in _ok("reindex", "--memory", mem)
    # the server gone: one line, exit 2
    monkeypatch.setenv("JOURNEYMAN_MEMORY__URL", settings.url.rsplit(":", 1)[0] + ":1/x")
    res = invoke(["stats", "--memory", mem])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "cannot reach the PostgreSQL memory store" in res.output


def test_doctor_checks_a_postgres_store(pg_store_settings: Any, tmp_path: Path) -> None:
    from agent.cli._doctor import check_memory
    from agent.config import Settings

    mem = pg_store_settings().model_copy(update={"path": tmp_path / "team"})
    check = check_memory(Settings(memory=mem))
    assert check.ok and "no store yet" in check.detail
    with MemoryStore.open(mem.path, settings=mem) as store:
        store.add(level="tool", scope="tool/x", title="Tip", content="Use it.")
    check = check_memory(Settings(memory=mem))
    assert check.ok and "1 items, 1 indexed, consistent" in check.detail
    down = mem.model_copy(update={"url": mem.url.rsplit(":", 1)[0] + ":1/x"})  # type: ignore[union-attr]
    check = check_memory(Settings(memory=down))
    assert not check.ok and "cannot reach" in check.detail


def test_namespace_options(tmp_path: Path) -> None:
    mem = str(tmp_path / "mem")
    with MemoryStore.open(mem, settings=MemorySettings(namespace="team/a")) as store:
        a = store.add(level="procedural", scope="app/x", title="Close a ticket", content="A way.")
    with MemoryStore.open(mem, settings=MemorySettings(namespace="team/b")) as store:
        b = store.add(level="procedural", scope="app/x", title="Open a ticket", content="B way.")
    assert json.loads(_ok("list", "--memory", mem, "--json")) == []  # "default" holds nothing
    listed = json.loads(_ok("--namespace", "team/a", "list", "--memory", mem, "--json"))
    assert [(r["id"], r["namespace"]) for r in listed] == [(a.id, "team/a")]
    wide = {"COLUMNS": "200"}
    table = invoke(["-n", "team/b", "--read", "team/a", "list", "--memory", mem], env=wide).output
    assert a.id in table and b.id in table and "team/a" in table
    both = json.loads(
        _ok("-n", "team/b", "-r", "team/a,default", "list", "--memory", mem, "--json")
    )
    assert {r["id"] for r in both} == {a.id, b.id}
    shown = invoke(["-n", "team/a", "show", a.id, "--memory", mem], env=wide).output
    assert "namespace team/a" in shown
    stats = json.loads(_ok("-n", "team/b", "-r", "team/a", "stats", "--memory", mem, "--json"))
    assert stats["namespace"] == "team/b" and stats["namespaces"] == {"team/b": 1, "team/a": 1}
    assert (
        "writes namespace team/b" in invoke(["-n", "team/b", "stats", "-m", mem], env=wide).output
    )
    hits = json.loads(_ok("-n", "team/b", "search", "close a ticket", "--memory", mem, "--json"))
    assert [h["id"] for h in hits] == [b.id]
    # the environment names them too (as memory.namespace in a settings file does)
    res = invoke(
        ["list", "--memory", mem, "--json"], env={"JOURNEYMAN_MEMORY__NAMESPACE": "team/b"}
    )
    assert res.exit_code == 0 and [r["id"] for r in json.loads(res.output)] == [b.id]

    # another namespace's item is read, not written: one line, exit 2
    res = invoke(["-n", "team/b", "-r", "team/a", "retire", a.id, "--memory", mem])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "namespace 'team/a'" in res.output
    for bad in (["--namespace", "Team/A"], ["--read", "team//x"]):
        res = invoke([*bad, "list", "--memory", mem])
        assert res.exit_code == 2, res.output
        assert len(res.output.strip().splitlines()) == 1 and "bad" in res.output
    res = invoke(["list", "--memory", mem], env={"JOURNEYMAN_MEMORY__NAMESPACE": "Nope"})
    assert res.exit_code == 2 and "memory.namespace" in res.output

    # export what is read (or --only part of it), import into the written namespace or not
    out = tmp_path / "out.jsonl"
    _ok("-n", "team/a", "-r", "team/b", "export", str(out), "--memory", mem, "--only", "team/b")
    assert [json.loads(x)["namespace"] for x in out.read_text().splitlines()] == ["team/b"]
    other = str(tmp_path / "other")
    assert "1 added" in _ok("-n", "user/priya", "import", str(out), "--memory", other)
    assert "1 added" in _ok("import", str(out), "--memory", other, "--keep-namespaces")
    assert len(json.loads(_ok("-n", "user/priya", "list", "--memory", other, "--json"))) == 1
    copied = json.loads(_ok("-n", "team/b", "list", "--memory", other, "--json"))
    assert [(r["title"], r["namespace"]) for r in copied] == [("Open a ticket", "team/b")]
    assert copied[0]["id"] != b.id  # b's id is user/priya's item there: a copy, a new id
