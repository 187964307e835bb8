"""The benchmark runner in-process on a workspace-only suite: protocols, resume, workers."""

from __future__ import annotations

from pathlib import Path

import _bench_helpers as helpers
import pytest

from agent.config import Settings
from evals.bench import BenchConfig, BenchError, BenchEvent, BenchStopped, ResultsStore, run_bench
from evals.bench.runner import memory_dir
from memory import MemoryStore


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(runs_dir=tmp_path / "runs", memory={"path": tmp_path / "unused-memory"})


@pytest.fixture(autouse=True)
def _no_kill() -> None:
    helpers.KILL_ON_GRADE = None
    helpers.KILL_WHEN = None
    helpers.GRADES = 0


def _config(out: Path, **kw: object) -> BenchConfig:
    base: dict[str, object] = {"suite": "ws", "out": out, "suites_root": helpers.SUITES}
    return BenchConfig.model_validate(base | kw)


def _scores(folder: Path) -> dict[tuple[str, str, int, str], tuple[float, list[bool]]]:
    return {
        (r.protocol, r.phase, r.iteration, r.task): (r.score, [c.passed for c in r.checkpoints])
        for r in ResultsStore(folder).results()
    }


def _episodes_and_items(folder: Path, protocol: str) -> tuple[int, list[str]]:
    with MemoryStore.open(memory_dir(folder, protocol, "carry"), readonly=True) as store:
        stats = store.stats()
        titles = sorted(i.title for i in store.list_items(status="active") if i.level != "episodic")
    return int(stats["episodes"]), titles


async def _unbroken(settings: Settings, tmp_path: Path, llm: object) -> Path:
    """Two continual passes run through without a break: what a broken run must end as."""
    whole = tmp_path / "whole"
    await run_bench(settings, _config(whole, protocol="continual", iterations=2), llm=llm)
    return whole


def _same_run(folder: Path, whole: Path) -> None:
    """The same scores, episodes and items as the unbroken run."""
    assert _scores(folder) == _scores(whole)
    assert _episodes_and_items(folder, "continual") == _episodes_and_items(whole, "continual")


async def test_continual_learns_and_no_memory_stays_flat(
    settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    llm = helpers.build()
    cont = await run_bench(settings, _config(out, protocol="continual", iterations=2), llm=llm)
    base = await run_bench(settings, _config(out, protocol="no-memory", iterations=2), llm=llm)

    first = [r.score for r in cont.results if r.iteration == 1]
    second = [r.score for r in cont.results if r.iteration == 2]
    # a: 1 of 2 checkpoints; b already uses the procedure a wrote, and so does pass 2
    assert first == [0.25, 1.0]
    assert second == [1.0, 1.0]
    assert all(r.items_used for r in cont.results[1:])
    assert [r.score for r in base.results] == [0.25] * 4
    assert all(not r.items_used and r.memory_mode == "off" for r in base.results)
    its = ResultsStore(out).iterations()
    assert [(i.protocol, i.iteration) for i in its] == [
        ("continual", 1),
        ("continual", 2),
        ("no-memory", 1),
        ("no-memory", 2),
    ]
    assert its[0].memory_levels["procedural"] >= 1 and its[0].memory_snapshot == "run-iter-1"
    snaps = {p.stem for p in (memory_dir(out, "continual", "carry") / "snapshots").glob("*.db")}
    assert {"run-iter-1", "run-iter-2", "bench-start"} <= snaps
    assert len([s for s in snaps if s.startswith("bench-task-")]) == 1  # only the latest kept
    r = cont.results[0]
    assert r.steps >= 1 and r.llm_calls >= 3 and r.tokens > 0 and r.wall_s > 0


async def test_killed_mid_task_resumes_to_the_same_results_and_memory(
    settings: Settings, tmp_path: Path
) -> None:
    llm = helpers.build()
    whole = await _unbroken(settings, tmp_path, llm)

    broken = tmp_path / "broken"
    helpers.GRADES = 0
    helpers.KILL_ON_GRADE = 4  # the last task ran (and wrote its episode), then the "kill"
    with pytest.raises(helpers.Killed):
        await run_bench(settings, _config(broken, protocol="continual", iterations=2), llm=llm)
    assert len(ResultsStore(broken).results()) == 3
    helpers.KILL_ON_GRADE = None
    with pytest.raises(BenchError, match="--resume"):
        await run_bench(settings, _config(broken, protocol="continual", iterations=2), llm=llm)
    with pytest.raises(BenchError, match="iterations"):
        await run_bench(
            settings, _config(broken, protocol="continual", iterations=3, resume=True), llm=llm
        )
    summary = await run_bench(
        settings, _config(broken, protocol="continual", iterations=2, resume=True), llm=llm
    )
    assert summary.ran == 1 and summary.skipped == 3
    # the killed attempt's episode was rolled back before the task ran again
    _same_run(broken, whole)


async def test_a_stop_file_ends_the_run_after_the_attempt_in_progress_and_resume_goes_on(
    settings: Settings, tmp_path: Path
) -> None:
    llm = helpers.build()
    whole = await _unbroken(settings, tmp_path, llm)

    out = tmp_path / "out"
    stop = out / "STOP"

    def on_event(e: BenchEvent) -> None:
        if e.kind == "task_start" and e.key is not None and e.key.iteration == 1:
            stop.touch()  # asked while the first attempt runs

    config = _config(out, protocol="continual", iterations=2)
    with pytest.raises(BenchStopped, match="--resume"):
        await run_bench(settings, config, llm=llm, on_event=on_event)
    assert len(ResultsStore(out).results()) == 1  # the attempt in progress was recorded
    assert ResultsStore(out).iterations() == []  # and no iteration counted as done
    assert not stop.exists()  # consumed
    resumed = config.model_copy(update={"resume": True})
    summary = await run_bench(settings, resumed, llm=llm)
    assert summary.ran == 3 and summary.skipped == 1
    _same_run(out, whole)


async def test_resume_without_the_carried_store_says_so_and_changes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """A run folder copied without its (uncommitted) memory folder: resuming it on an empty
    store would quietly go on as if nothing had been learned. It stops, naming the folder."""
    import shutil

    out = tmp_path / "out"
    helpers.KILL_ON_GRADE = 3
    with pytest.raises(helpers.Killed):
        await run_bench(
            settings, _config(out, protocol="continual", iterations=2), llm=helpers.build()
        )
    helpers.KILL_ON_GRADE = None
    before = ResultsStore(out).results_path.read_text()
    shutil.rmtree(memory_dir(out, "continual", "carry"))
    cfg = _config(out, protocol="continual", iterations=2, resume=True)
    with pytest.raises(BenchError, match=r"2 recorded task\(s\).*store is missing"):
        await run_bench(settings, cfg, llm=helpers.build())
    assert ResultsStore(out).results_path.read_text() == before
    assert not MemoryStore.exists(memory_dir(out, "continual", "carry"))


async def test_resume_on_other_code_says_which_commit_to_resume_from(
    settings: Settings, tmp_path: Path
) -> None:
    """A run records the commit of its code; continued on another commit it would mix two
    codes in one curve, so --resume refuses and names the commit to check out."""
    import json

    from evals.portable import code_version

    out = tmp_path / "out"
    helpers.KILL_ON_GRADE = 2  # the first of two tasks recorded, the second killed
    with pytest.raises(helpers.Killed):
        await run_bench(settings, _config(out, protocol="no-memory"), llm=helpers.build())
    helpers.KILL_ON_GRADE = None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"]["no-memory"]["code"] == code_version() is not None
    manifest["runs"]["no-memory"]["code"] = "0123456789abcdef0123456789abcdef01234567"
    (out / "manifest.json").write_text(json.dumps(manifest))
    cfg = _config(out, protocol="no-memory", resume=True)
    with pytest.raises(BenchError, match=r"git worktree add \.\./bench-0123456 0123456789abcdef"):
        await run_bench(settings, cfg, llm=helpers.build())
    manifest["runs"]["no-memory"]["code"] = code_version()
    (out / "manifest.json").write_text(json.dumps(manifest))
    summary = await run_bench(settings, cfg, llm=helpers.build())
    assert summary.skipped == 1 and summary.ran == 1


async def test_transfer_uses_a_frozen_copy(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = _config(out, protocol="transfer", transfer_suite="ws2")
    summary = await run_bench(settings, cfg, llm=helpers.build())
    learn = [r for r in summary.results if r.phase == "learn"]
    evals = [r for r in summary.results if r.phase == "eval"]
    assert [r.task for r in learn] == ["ws/answer-a", "ws/answer-b"]
    assert [(r.task, r.score, r.memory_mode) for r in evals] == [("ws2/answer-c", 1.0, "frozen")]
    assert evals[0].items_used and not evals[0].items_written
    learned = _episodes_and_items(out, "transfer")
    assert learned[0] == 2  # the eval phase archived nothing into the learned store


async def test_transfer_from_an_existing_store_skips_learning(
    settings: Settings, tmp_path: Path
) -> None:
    llm = helpers.build()
    await run_bench(settings, _config(tmp_path / "a", protocol="single"), llm=llm)
    cfg = _config(
        tmp_path / "b",
        protocol="transfer",
        transfer_suite="ws2",
        memory_from=memory_dir(tmp_path / "a", "single", "carry"),
    )
    summary = await run_bench(settings, cfg, llm=llm)
    assert [(r.phase, r.score) for r in summary.results] == [("eval", 1.0)]


async def test_workers_run_tasks_side_by_side(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = _config(out, protocol="no-memory", workers=2, tasks=["answer-b", "answer-a"])
    summary = await run_bench(settings, cfg, llm=helpers.build())
    assert sorted(r.worker for r in summary.results) == [0, 1]
    assert {r.task for r in summary.results} == {"ws/answer-a", "ws/answer-b"}
    with pytest.raises(BenchError, match="no task"):
        await run_bench(settings, _config(tmp_path / "x", tasks=["nope"]), llm=helpers.build())


async def test_killed_beside_a_running_task_resumes_from_before_both(
    settings: Settings, tmp_path: Path
) -> None:
    """With two workers, the first result of a pass is recorded while the other attempt
    runs and may already have written; its snapshot would carry that half-attempt into the
    resumed run. It gets none: the resume goes back to the start and runs both again."""
    out = tmp_path / "out"
    events: list[str] = []
    cfg = _config(out, protocol="continual", iterations=2, workers=2)
    helpers.KILL_ON_GRADE = 2  # the second attempt of pass 1 wrote its episode, then the kill
    helpers.KILL_WHEN = lambda: len(ResultsStore(out).results()) == 1  # ... after the first's
    with pytest.raises(helpers.Killed):
        await run_bench(settings, cfg, llm=helpers.build())
    helpers.KILL_WHEN = None
    (first,) = ResultsStore(out).results()
    assert first.memory_mode == "carry" and first.memory_snapshot is None
    helpers.KILL_ON_GRADE = None
    summary = await run_bench(
        settings,
        cfg.model_copy(update={"resume": True}),
        llm=helpers.build(),
        on_event=lambda e: events.append(e.text or ""),
    )
    assert summary.skipped == 0 and summary.ran == 4
    assert any(t.startswith("resume: 1 finished task(s) run again") for t in events)
    results = ResultsStore(out).results()
    assert sorted((r.iteration, r.task) for r in results) == [
        (1, "ws/answer-a"),
        (1, "ws/answer-b"),
        (2, "ws/answer-a"),
        (2, "ws/answer-b"),
    ]
    assert len(ResultsStore(out).results_path.read_text().splitlines()) == 5  # 1 replaced
    # both killed attempts' writes were undone: one episode per recorded attempt
    assert _episodes_and_items(out, "continual")[0] == 4
    assert all(r.score == 1.0 for r in results if r.iteration == 2)


def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.results_path.write_text('{"protocol": "single", "pha')
    assert store.results() == []
    assert store.repair() > 0 and store.results_path.read_text() == ""


def test_each_worker_keeps_one_python_environment_for_its_attempts(
    settings: Settings, tmp_path: Path
) -> None:
    """Every attempt gets a fresh workspace; its Python environment is the worker's, so
    pandas is installed once per worker, not once per table task."""
    from evals.bench.attempt import task_settings
    from evals.tasks import load_suite

    task = load_suite("ws", helpers.SUITES)[0]
    cfg = _config(tmp_path / "out", protocol="no-memory")
    first = task_settings(settings, cfg, task, worker=0).tools.python_env_dir
    again = task_settings(settings, cfg, task, worker=0).tools.python_env_dir
    other = task_settings(settings, cfg, task, worker=1).tools.python_env_dir
    assert first == again == tmp_path / "out" / "pyenv" / "w0"
    assert other == tmp_path / "out" / "pyenv" / "w1"
    own = settings.model_copy(
        update={"tools": settings.tools.model_copy(update={"python_env_dir": tmp_path / "mine"})}
    )
    assert task_settings(own, cfg, task).tools.python_env_dir == tmp_path / "mine"
