"""The memory inspection notebook, executed headless against a sample store built by a
scripted run of the real agent (only the model is scripted)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from evals.inspect_memory import RESULTS_ENV, STORE_ENV  # noqa: E402
from evals.sample_store import build_sample_store  # noqa: E402
from memory import MemoryStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "memory_inspection.ipynb"
KERNEL = "journeyman-test-python"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample store, built once for the module."""
    return build_sample_store(tmp_path_factory.mktemp("sample") / "store")


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pytest.MonkeyPatch]:
    """A kernelspec for this interpreter in a temporary JUPYTER_PATH (no `ipykernel
    install` needed in a fresh clone), and no stray notebook settings from the caller."""
    jupyter = tmp_path_factory.mktemp("jupyter")
    spec = jupyter / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "journeyman test", "language": "python"})
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(jupyter))
        mp.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        for name in (RESULTS_ENV, "JOURNEYMAN_ITEM", "JOURNEYMAN_EPISODE"):
            mp.delenv(name, raising=False)
        yield mp


def execute(mp: pytest.MonkeyPatch, store: Path, results: Path | None = None) -> Any:
    """Run the notebook in a fresh kernel; raises on any cell error."""
    mp.setenv(STORE_ENV, str(store))
    if results is None:
        mp.delenv(RESULTS_ENV, raising=False)
    else:
        mp.setenv(RESULTS_ENV, str(results))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    return nb


def cell(nb: Any, tag: str) -> Any:
    """The code cell with that tag."""
    return next(c for c in nb.cells if tag in c.metadata.get("tags", []))


def text(c: Any) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for out in c.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def displayed(c: Any) -> list[str]:
    """The text of each object a cell displayed."""
    return [o.data.get("text/plain", "") for o in c.outputs if "data" in o]


def images(c: Any) -> list[str]:
    """The PNG images a cell displayed."""
    return [o.data["image/png"] for o in c.outputs if "image/png" in o.get("data", {})]


@pytest.fixture(scope="module")
def executed(sample_store: Path, kernel_env: pytest.MonkeyPatch) -> Any:
    """The notebook as `make notebook` runs it: the sample store, no benchmark folder."""
    return execute(kernel_env, sample_store)


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [], f"outputs committed in cell {c.metadata.get('tags')}"
            assert c.execution_count is None


def test_counts_table_matches_the_store(executed: Any, sample_store: Path) -> None:
    with MemoryStore.open(sample_store, readonly=True) as store:
        stats = store.stats()
    out = next(t for t in displayed(cell(executed, "counts")) if "per level and status" in t)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    for level, counts in stats["levels"].items():
        assert level in ("strategic", "procedural", "tool", "episodic", "skill")
        expected = [str(counts[s]) for s in ("candidate", "active", "quarantined", "retired")]
        assert rows[level] == [*expected, str(sum(counts.values()))]
    # every level and every status is represented in the sample
    assert all(sum(c.values()) for c in stats["levels"].values())
    assert {s for c in stats["levels"].values() for s, n in c.items() if n} == {
        "candidate",
        "active",
        "quarantined",
        "retired",
    }
    html = [o.data["text/html"] for o in cell(executed, "counts").outputs if "data" in o]
    assert html and all("<table>" in h for h in html)


def test_tree_shows_the_hierarchy(executed: Any, sample_store: Path) -> None:
    with MemoryStore.open(sample_store, readonly=True) as store:
        active = store.stats()["active"]
    out = text(cell(executed, "tree"))
    assert out.startswith(f"memory: {active} active items")
    assert "├── files/" in out and "tool/" in out and "shell_run/" in out
    assert "[p] Count the lines of a text file" in out
    assert "task/" in out  # episodes


def test_usefulness_tables_and_plots(executed: Any) -> None:
    out = text(cell(executed, "usefulness"))
    assert "Most useful" in out and "Least useful" in out
    assert "Count the lines of a text file" in out
    pngs = images(cell(executed, "usage-plot"))
    assert len(pngs) == 1 and len(pngs[0]) > 1000


def test_history_shows_diffs_with_actor_and_reason(executed: Any) -> None:
    out = text(cell(executed, "history"))
    assert "Count the lines of a text file (3 versions)" in out
    assert "=== v1" in out and "by reflector: proposed" in out
    assert "by reflector: near-duplicate of" in out and "corroborated by episode" in out
    assert "by user: clarified: the header row is counted too" in out
    assert "--- v1\n+++ v2" in out and "--- v2\n+++ v3" in out
    assert "+  For a CSV file the count includes the header row." in out


def test_episode_section(executed: Any, sample_store: Path) -> None:
    """The default episode is the one that wrote the most items (ties: the most in
    context), shown with what it used, what it wrote and each action of its timeline."""
    with MemoryStore.open(sample_store, readonly=True) as store:
        episodes = store.episodes()
    most = max(len(e.items_written) for e in episodes)
    busiest = [e for e in episodes if len(e.items_written) == most]
    shown = max(busiest, key=lambda e: len(e.items_used))
    out = text(cell(executed, "episode"))
    assert shown.id in out and most >= 3
    assert all(e.id not in out for e in episodes if e is not shown)
    assert "Items in context" in out and "Items written" in out
    for item_id in [*shown.items_used, *shown.items_written]:
        assert item_id in out
    with MemoryStore.open(sample_store, readonly=True) as store:
        for it in store.get_many(shown.items_written):  # what became of what it wrote
            row = next(line for line in out.splitlines() if line.startswith(it.id))
            assert row.split()[2] == it.status
    actions = [s for s in shown.steps() if s.get("kind") == "tool"]
    assert actions and all(f"{s['tool']}(" in out for s in actions)
    assert "ended: success" in out
    assert "Retrieval for:" in text(cell(executed, "retrieval"))


def test_review_queue(executed: Any, sample_store: Path) -> None:
    with MemoryStore.open(sample_store, readonly=True) as store:
        held = [
            *store.list_items(status="candidate", limit=None),
            *store.list_items(status="quarantined", limit=None),
        ]
    out = text(cell(executed, "review"))
    assert held and all(it.id in out for it in held)
    assert "Tip for shell_run from the team wiki" in out and "possible injection" in out
    assert "needs 2, or approval" in out  # an untrusted lesson awaiting corroboration


def test_growth_cell_skips_without_results(executed: Any) -> None:
    out = text(cell(executed, "growth"))
    assert out.startswith(f"Skipped: set {RESULTS_ENV}")
    assert not images(cell(executed, "growth"))


def fake_results(folder: Path) -> Path:
    """A tiny `journeyman bench run` folder: continual over 3 iterations, a no-memory
    baseline, written with the runner's own records and store."""
    from evals.bench.records import IterationRecord, TaskResult
    from evals.bench.store import ResultsStore

    results = ResultsStore(folder)
    for protocol, mode in (("continual", "carry"), ("no-memory", "off")):
        for iteration, score in ((1, 0.25), (2, 0.5), (3, 0.75)):
            if protocol == "no-memory":
                score = 0.25
            for name in ("triage", "release"):
                results.append(
                    TaskResult(
                        protocol=protocol,
                        phase="run",
                        iteration=iteration,
                        task=f"acme/{name}",
                        suite="acme",
                        name=name,
                        category="ops",
                        family=name,
                        difficulty="easy",
                        model="scripted",
                        memory_mode=mode,
                        score=score,
                        outcome="achieved",
                        items_written=["p-1", "s-2"] if mode == "carry" else [],
                    )
                )
            levels = {"strategic": iteration, "procedural": 2 * iteration, "tool": 1}
            results.append_iteration(
                IterationRecord(
                    protocol=protocol,
                    phase="run",
                    iteration=iteration,
                    suite="acme",
                    tasks=2,
                    mean_score=score,
                    full=0,
                    memory_levels=levels if mode == "carry" else {},
                    memory_active=sum(levels.values()) if mode == "carry" else 0,
                )
            )
    return folder


def test_growth_cell_with_a_results_folder(
    sample_store: Path, kernel_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("evals.bench.store")
    nb = execute(kernel_env, sample_store, fake_results(tmp_path / "run"))
    growth = cell(nb, "growth")
    out = text(growth)
    assert "Memory growth and score per iteration" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("continual")]
    # protocol phase iteration tasks score full strategic procedural tool episodic skill
    # active written
    assert rows == [
        ["continual", "run", "1", "2", "0.25", "0", "1", "2", "1", "0", "0", "4", "4"],
        ["continual", "run", "2", "2", "0.50", "0", "2", "4", "1", "0", "0", "7", "4"],
        ["continual", "run", "3", "2", "0.75", "0", "3", "6", "1", "0", "0", "10", "4"],
    ]
    assert len(images(growth)) == 1


def test_the_notebook_on_a_postgres_store(
    sample_store: Path,
    kernel_env: pytest.MonkeyPatch,
    pg_cluster: Any,
    chroma_server: Any,
    tmp_path: Path,
) -> None:
    """The sample store moved into PostgreSQL (snapshot import and restore), its index on a
    Chroma server; the notebook reads it through the agent's JOURNEYMAN_MEMORY__* settings."""
    from memory import MemorySettings

    settings = MemorySettings(
        backend="postgres",
        url=pg_cluster.create_database("notebook_store"),
        index_url=chroma_server.url,
    )
    folder = tmp_path / "team"
    with MemoryStore.open(folder, settings=settings) as store:
        store.import_snapshot(sample_store, "sample")
        store.restore("sample")
        stats = store.stats()
    env = {"BACKEND": "postgres", "URL": settings.url, "INDEX_URL": settings.index_url}
    try:
        for key, value in env.items():
            kernel_env.setenv(f"JOURNEYMAN_MEMORY__{key}", str(value))
        nb = execute(kernel_env, folder)
    finally:
        for key in env:
            kernel_env.delenv(f"JOURNEYMAN_MEMORY__{key}", raising=False)
    out = next(t for t in displayed(cell(nb, "counts")) if "per level and status" in t)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    for level, counts in stats["levels"].items():
        expected = [str(counts[s]) for s in ("candidate", "active", "quarantined", "retired")]
        assert rows[level] == [*expected, str(sum(counts.values()))]
    assert text(cell(nb, "tree")).startswith(f"memory: {stats['active']} active items")
    assert "Count the lines of a text file (3 versions)" in text(cell(nb, "history"))


def test_skills_cell_lists_the_skills_the_learner_wrote(executed: Any, sample_store: Path) -> None:
    with MemoryStore.open(sample_store, readonly=True) as store:
        skills = store.list_items(level="skill")
        replayed = [s for s in skills if any("replayed" in v.reason for v in store.history(s.id))]
    assert replayed, "the sample run induces at least one skill, replayed before it counts"
    [out] = displayed(cell(executed, "skills"))
    for s in skills:
        assert s.id in out
    assert "skill_" in out
