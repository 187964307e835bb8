"""`journeyman memory` commands: inspect, search, curate and repair the experience store.

Heavy imports (the memory package pulls SQLModel, Chroma, ONNX Runtime) stay inside the
command functions so that ``journeyman --help`` stays fast. Read commands take ``--json``.
Memory errors reach the CLI's one boundary: one line on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from memory import MemoryStore

app = typer.Typer(help="Inspect and curate the experience memory.", no_args_is_help=True)

#: The namespace view the group's options chose (None: the settings' own).
_view: dict[str, Any] = {}

MemoryOpt = typer.Option(None, "--memory", "-m", help="Memory store folder (default: settings).")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables.")


def _fail(message: str, code: int) -> typer.Exit:
    print(f"journeyman: error: {message}", file=sys.stderr)
    return typer.Exit(code)


NamespaceOpt = typer.Option(
    None,
    "--namespace",
    "-n",
    help="The namespace written (default: memory.namespace, else 'default').",
)
ReadOpt = typer.Option(
    None,
    "--read",
    "-r",
    help="Another namespace read besides the written one (repeat, or a,b); "
    "default: memory.read_namespaces.",
)


@app.callback()
def _namespaces(namespace: str | None = NamespaceOpt, read: list[str] | None = ReadOpt) -> None:
    """Inspect and curate the experience memory."""
    _view.clear()
    _view.update(namespace_overrides(namespace, read))


def namespace_overrides(namespace: str | None, read: list[str] | None) -> dict[str, Any]:
    """Settings updates of ``memory`` for ``--namespace`` and ``--read`` (checked: a bad
    name is one line and exit code 2 at the CLI's boundary)."""
    from memory.namespaces import check_namespace, parse_namespaces

    out: dict[str, Any] = {}
    if namespace is not None:
        out["namespace"] = check_namespace(namespace)
    if read:
        out["read_namespaces"] = [n for r in read for n in parse_namespaces(r)]
    return out


@contextlib.contextmanager
def _store(memory: Path | None, *, readonly: bool) -> Iterator[MemoryStore]:
    """Open the store (its errors reach the CLI's one boundary, agent/cli/_errors.py)."""
    from agent.config import load_settings
    from memory import MemoryStore

    settings = load_settings()
    mem = settings.memory.model_copy(update=_view)
    path = Path(memory).expanduser() if memory else Path(mem.path).expanduser()
    with MemoryStore.open(path, settings=mem, readonly=readonly) as store:
        yield store


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def _items_table(items: list[Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    cols = ("id", "namespace", "level", "scope", "title", "status", "trust", "v", "utility", "uses")
    for name in cols:
        table.add_column(name, overflow="fold", no_wrap=name == "id")
    for it in items:
        table.add_row(
            it.id,
            it.namespace,
            it.level,
            it.scope,
            it.title,
            it.status,
            it.trust,
            str(it.version),
            f"{it.utility:.2f}",
            str(it.uses),
        )
    Console().print(table)


@app.command()
def stats(memory: Path | None = MemoryOpt, as_json: bool = JsonOpt) -> None:
    """Counts by level and status, trust, episodes, and the index's state."""
    with _store(memory, readonly=True) as store:
        data = store.stats()
    if as_json:
        _print_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    where = data["location"] if data["backend"] == "postgres" else data["path"]
    table = Table(title=f"memory at {where}")
    table.add_column("level")
    for status in ("active", "candidate", "quarantined", "retired"):
        table.add_column(status, justify="right")
    for level, counts in data["levels"].items():
        table.add_row(
            level, *(str(counts[s]) for s in ("active", "candidate", "quarantined", "retired"))
        )
    console = Console()
    console.print(table)
    counts = ", ".join(f"{ns} {n}" for ns, n in data["namespaces"].items())
    console.print(f"writes namespace {data['namespace']}; reads {counts}")
    idx = data["index"]
    console.print(
        f"items {data['items']} (active {data['active']}), episodes {data['episodes']}, "
        f"versions {data['versions']}, untrusted {data['trust']['untrusted']}; index "
        f"{idx['count']} vectors ({idx['model'] or 'not built'}), "
        f"{'in sync' if idx['in_sync'] else 'behind: repaired by the next writer'}"
    )


@app.command()
def tree(memory: Path | None = MemoryOpt, as_json: bool = JsonOpt) -> None:
    """Scopes as a tree with active item counts per level."""
    with _store(memory, readonly=True) as store:
        rows = store.tree()
    if as_json:
        _print_json(rows)
        return
    from rich.console import Console
    from rich.tree import Tree

    root = Tree("memory")
    nodes: dict[str, Tree] = {}
    for row in rows:
        parts = row["scope"].split("/")
        parent = root
        for depth in range(1, len(parts) + 1):
            key = "/".join(parts[:depth])
            if key not in nodes:
                nodes[key] = parent.add(parts[depth - 1])
            parent = nodes[key]
        counts = ", ".join(f"{lv} {n}" for lv, n in sorted(row["counts"].items()))
        parent.label = f"{parts[-1]}  [dim]({counts})[/dim]"
    Console().print(root)


@app.command("list")
def list_(
    memory: Path | None = MemoryOpt,
    level: str | None = typer.Option(None, help="strategic, procedural, tool, episodic or skill."),
    status: str | None = typer.Option(None, help="candidate, active, quarantined or retired."),
    scope: str | None = typer.Option(None, help="Scope prefix, e.g. app/trac."),
    trust: str | None = typer.Option(None, help="trusted or untrusted."),
    limit: int = typer.Option(50, min=1),
    as_json: bool = JsonOpt,
) -> None:
    """List items, newest first."""
    with _store(memory, readonly=True) as store:
        items = store.list_items(level=level, status=status, scope=scope, trust=trust, limit=limit)
    if as_json:
        _print_json([it.to_record() for it in items])
    else:
        _items_table(items, f"{len(items)} item(s)")


@app.command()
def show(item_id: str, memory: Path | None = MemoryOpt, as_json: bool = JsonOpt) -> None:
    """One item in full."""
    with _store(memory, readonly=True) as store:
        it = store.get(item_id)
    if as_json:
        _print_json(it.to_record())
        return
    from rich.console import Console
    from rich.panel import Panel

    meta = (
        f"namespace {it.namespace} · level {it.level} · scope {it.scope} · status {it.status} · "
        f"trust {it.trust} · version {it.version}\nused {it.uses} (success {it.success}, failure {it.failure}), "
        f"retrieved {it.retrieved}, utility {it.utility:.2f}, last used {_when(it.last_used)}\n"
        f"provenance: actor {it.prov_actor}, episode {it.prov_episode or '-'}, subtask "
        f"{it.prov_subtask or '-'}, model {it.prov_model or '-'}, source {it.prov_source or '-'}"
    )
    if it.supersedes or it.superseded_by:
        meta += f"\nsupersedes {it.supersedes or '-'} · superseded by {it.superseded_by or '-'}"
    if it.tags:
        meta += "\ntags: " + ", ".join(it.tags)
    body = (f"When: {it.when_to_use}\n\n" if it.when_to_use else "") + it.content
    if it.level == "skill":  # its signature and steps, not the stored JSON
        from agent.skills import parse_skill

        skill = parse_skill(it.content)
        body = skill.render() if skill is not None else body
    Console().print(Panel(f"{meta}\n\n{body}", title=f"{it.id}  {it.title}"))


@app.command()
def search(
    query: str,
    memory: Path | None = MemoryOpt,
    level: str | None = typer.Option(None, help="Only this level."),
    scope: str | None = typer.Option(None, help="Scope prefix."),
    k: int = typer.Option(5, "-k", min=1, max=100),
    mode: str = typer.Option("hybrid", help="hybrid, vector or bm25."),
    as_json: bool = JsonOpt,
) -> None:
    """Hybrid search (vectors + BM25), as the agent retrieves."""
    with _store(memory, readonly=True) as store:
        hits = store.search(query, level=level, scope=scope, k=k, mode=mode)
    if as_json:
        _print_json([h.to_record() for h in hits])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(hits)} hit(s) for {query!r}")
    for name in ("id", "level", "scope", "title", "score", "vector", "bm25", "utility"):
        table.add_column(name, overflow="fold", no_wrap=name == "id")
    for h in hits:
        table.add_row(
            h.item.id,
            h.item.level,
            h.item.scope,
            h.item.title,
            f"{h.score:.4f}",
            "-" if h.vector_score is None else f"{h.vector_score:.3f}",
            "-" if h.bm25_score is None else f"{h.bm25_score:.2f}",
            f"{h.item.utility:.2f}",
        )
    Console().print(table)


@app.command()
def history(item_id: str, memory: Path | None = MemoryOpt, as_json: bool = JsonOpt) -> None:
    """Every version of an item, with actor and reason."""
    with _store(memory, readonly=True) as store:
        versions = store.history(item_id)
    if as_json:
        _print_json([v.model_dump() for v in versions])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"history of {item_id}")
    for name in ("v", "when", "actor", "reason", "status", "title", "content"):
        table.add_column(name, overflow="fold")
    for v in versions:
        d = v.data
        content = str(d.get("content", ""))
        table.add_row(
            str(v.version),
            _when(v.created_at),
            v.actor,
            v.reason,
            str(d.get("status", "")),
            str(d.get("title", "")),
            content[:80] + ("…" if len(content) > 80 else ""),
        )
    Console().print(table)


def _write_cmd(memory: Path | None, fn: Any) -> Any:

    with _store(memory, readonly=False) as store:
        return fn(store)


@app.command()
def revert(item_id: str, version: int, memory: Path | None = MemoryOpt) -> None:
    """Make an old version current again (as a new version)."""
    it = _write_cmd(memory, lambda s: s.revert(item_id, version, actor="cli"))
    print(f"{it.id} reverted to version {version} (now version {it.version})")


@app.command()
def retire(
    item_id: str,
    memory: Path | None = MemoryOpt,
    reason: str = typer.Option("retired from the CLI", help="Why (kept in history)."),
) -> None:
    """Take an item out of use (it stays, with its history)."""
    it = _write_cmd(memory, lambda s: s.retire(item_id, actor="cli", reason=reason))
    print(f"{it.id} retired (version {it.version})")


@app.command()
def approve(item_id: str, memory: Path | None = MemoryOpt) -> None:
    """Vouch for a candidate or quarantined item: it becomes active and trusted."""
    it = _write_cmd(memory, lambda s: s.approve(item_id, actor="cli"))
    print(f"{it.id} approved: active, trusted (version {it.version})")


@app.command("export")
def export_(
    file: Path,
    memory: Path | None = MemoryOpt,
    status: str | None = typer.Option(None, help="Only items with this status."),
    only: list[str] | None = typer.Option(
        None, "--only", help="Only this readable namespace (repeat); default: all read."
    ),
) -> None:
    """Write the items of the namespaces read as JSON Lines (each with its namespace)."""
    with _store(memory, readonly=True) as store:
        n = store.export_jsonl(file, status=status, namespaces=only or None)
    print(f"exported {n} item(s) to {file}")


@app.command("import")
def import_(
    file: Path,
    memory: Path | None = MemoryOpt,
    keep_namespaces: bool = typer.Option(
        False, "--keep-namespaces", help="Keep each record's namespace (default: the one written)."
    ),
) -> None:
    """Read items from JSON Lines into the namespace written (active and trusted unless the
    records say otherwise)."""
    counts = _write_cmd(
        memory, lambda s: s.import_jsonl(file, actor="cli", keep_namespaces=keep_namespaces)
    )
    print(
        f"imported from {file}: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged"
    )


@app.command()
def reindex(memory: Path | None = MemoryOpt) -> None:
    """Rebuild the vector index from SQLite."""
    n = _write_cmd(memory, lambda s: s.reindex(reason="requested from the CLI"))
    print(f"index rebuilt: {n} active item(s)")


@app.command()
def verify(
    memory: Path | None = MemoryOpt,
    repair: bool = typer.Option(True, help="Repair a stale index."),
    as_json: bool = JsonOpt,
) -> None:
    """Check SQLite integrity, versions and the index; exit 1 when problems remain."""
    rep = _write_cmd(memory, lambda s: s.verify(repair=repair))
    if as_json:
        _print_json(rep.to_record())
    else:
        for line in rep.repaired:
            print(f"repaired: {line}")
        for line in rep.problems:
            print(f"problem: {line}")
        print(
            f"{'ok' if rep.ok else 'NOT OK'}: {rep.items} items, {rep.active} active, "
            f"{rep.indexed} indexed"
        )
    if not rep.ok:
        raise typer.Exit(1)


@app.command()
def snapshot(name: str, memory: Path | None = MemoryOpt) -> None:
    """Freeze the whole store as snapshots/NAME.db."""
    path = _write_cmd(memory, lambda s: s.snapshot(name))
    print(f"snapshot {name} written to {path}")


@app.command()
def restore(name: str, memory: Path | None = MemoryOpt) -> None:
    """Replace the store by snapshot NAME (the current state is saved first)."""
    safety = _write_cmd(memory, lambda s: s.restore(name, actor="cli"))
    print(f"restored {name}; the previous state is snapshot {safety.stem}")


@app.command()
def curate(
    memory: Path | None = MemoryOpt,
    min_uses: int | None = typer.Option(None, help="Uses before an item can retire."),
    threshold: float | None = typer.Option(None, help="Utility below which it retires."),
    dry_run: bool = typer.Option(False, help="Only show what would retire."),
    as_json: bool = JsonOpt,
) -> None:
    """Retire items whose utility stays low after enough uses."""
    items = _write_cmd(
        memory,
        lambda s: s.curate(min_uses=min_uses, threshold=threshold, dry_run=dry_run, actor="cli"),
    )
    if as_json:
        _print_json([it.to_record() for it in items])
    elif not items:
        print("nothing to retire")
    else:
        _items_table(items, ("would retire" if dry_run else "retired") + f" {len(items)} item(s)")


@app.command()
def purge(
    item_id: str,
    memory: Path | None = MemoryOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    reason: str = typer.Option("purged from the CLI", help="Why (kept in the audit log)."),
) -> None:
    """Delete an item and its history for good (logged). Prefer `retire`."""
    if not yes and not typer.confirm(
        f"Delete {item_id} and all its versions permanently?", default=False
    ):
        raise _fail("purge cancelled", 1)
    _write_cmd(memory, lambda s: s.purge(item_id, actor="cli", reason=reason))
    print(f"{item_id} purged (logged in the audit log)")
