"""`make learning-curve`: the plan of instances, and the whole pipeline with a scripted model.

The end-to-end test runs the real protocol code (continual, no-memory, transfer, report)
on real Acme apps with a tiny plan (one expenses instance per pass, K=2, one sales
instance for transfer); only the model is scripted (evals/bench/scripted_curve.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.bench import ResultsStore
from evals.bench.scripted_curve import SOP_TITLE, build
from evals.learning_curve import (
    LEARN_FAMILIES,
    TRANSFER_FAMILIES,
    CurveError,
    _parser,
    instance_seed,
    plan_instances,
    run_learning_curve,
)


def _plan(**kw: object):  # type: ignore[no-untyped-def]
    args = {"families": LEARN_FAMILIES, "transfer_families": TRANSFER_FAMILIES} | kw
    return plan_instances(**args)  # type: ignore[arg-type]


def test_defaults_are_the_issue_protocol() -> None:
    args = _parser().parse_args([])
    assert (args.iterations, args.max_steps, args.time_limit, args.seeds) == (5, 20, 600.0, 1)
    assert args.model == "local"
    plan = _plan(iterations=args.iterations, transfer_per_tier=args.transfer_per_tier)
    assert len(plan.rounds) == 5
    for r in plan.rounds:
        assert {s.spec["family"] for s in r} == set(LEARN_FAMILIES)
        assert {s.spec["difficulty"] for s in r} == {"micro", "short"}
    assert {s.spec["family"] for s in plan.transfer} == set(TRANSFER_FAMILIES)
    assert not set(LEARN_FAMILIES) & set(TRANSFER_FAMILIES)


def test_every_pass_draws_fresh_instances_and_repeats_differ() -> None:
    plan = _plan(iterations=3, per_tier=2)
    names = [s.name for r in plan.rounds for s in r] + [s.name for s in plan.transfer]
    assert len(names) == len(set(names)), "no instance is seen twice"
    starts = [repr((s.text, s.spec["seed"])) for r in plan.rounds for s in r]
    assert len(set(starts)) == len(starts), "each instance has its own text or data"
    again = _plan(iterations=3, per_tier=2)
    assert [s.text for s in again.specs] == [s.text for s in plan.specs]
    other = _plan(iterations=3, per_tier=2, repeat=1)
    assert not {s.name for s in other.specs} & set(names)
    seeds = {instance_seed(r, i, j) for r in range(3) for i in range(6) for j in range(5)}
    assert len(seeds) == 3 * 6 * 5


def test_bad_plans_are_clear_errors() -> None:
    with pytest.raises(CurveError, match="never learned from"):
        _plan(transfer_families=("expenses",))
    with pytest.raises(CurveError, match="unknown families"):
        _plan(families=("payroll",))
    with pytest.raises(CurveError, match="has a tier"):
        _plan(tier_names=("long",))


def _no_machine_paths(folder: Path, tmp_path: Path) -> None:
    for name in ("report.json", "report.html", "manifest.json"):
        text = (folder / name).read_text()
        assert str(tmp_path) not in text and "/tmp/" not in text, name


async def test_tiny_protocol_end_to_end_with_a_scripted_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("JOURNEYMAN_MEMORY__PATH", str(tmp_path / "default-memory"))
    monkeypatch.setenv("JOURNEYMAN_RUNS_DIR", str(tmp_path / "default-runs"))
    argv = [
        "--out-root", str(tmp_path), "--name", "tiny", "--model", "evals.bench.scripted_curve:build",
        "--iterations", "2", "--families", "expenses", "--tiers", "micro",
        "--transfer-families", "sales-report", "--transfer-per-tier", "1",
    ]  # fmt: skip
    args = _parser().parse_args(argv)
    out = await run_learning_curve(args, "python -m evals.learning_curve", llm=build())
    results = {(r.protocol, r.phase, r.iteration): r for r in ResultsStore(out).results()}
    cont1, cont2 = results[("continual", "run", 1)], results[("continual", "run", 2)]
    assert cont1.task != cont2.task, "a fresh instance in every pass"
    # pass 1: rows counted, overruled by code, summed on the retry; pass 2: summed at once
    assert (cont1.score, cont2.score) == (1.0, 1.0)
    assert cont1.llm_calls > cont2.llm_calls and cont1.steps == 2 * cont2.steps
    assert cont2.items_used and not cont1.items_used
    base = [results[("no-memory", "run", i)] for i in (1, 2)]
    assert [r.task for r in base] == [cont1.task, cont2.task], "the same instances"
    assert [r.score for r in base] == [1.0, 1.0]
    assert [r.steps for r in base] == [cont1.steps, cont1.steps], "every time the retry"
    baseline = results[("no-memory", "eval", 1)]
    transfer = results[("transfer", "eval", 1)]
    assert transfer.family == "sales-report" and transfer.score == 1.0 and transfer.items_used
    assert transfer.llm_calls < baseline.llm_calls and not baseline.items_used

    report = json.loads((out / "report.json").read_text())
    cont = report["curves"]["continual"]
    assert [p["mean_score"] for p in cont] == [1.0, 1.0]
    assert cont[0]["calls_per_solved"] > cont[1]["calls_per_solved"] > 0
    assert all("ci_low" in p and p["ci_low"] <= p["mean_score"] <= p["ci_high"] for p in cont)
    fam = {(f["curve"], f["family"]): f for f in report["families"]}
    assert fam[("continual", "expenses")]["last_score"] == 1.0
    assert fam[("no-memory", "expenses")]["last_score"] == 1.0
    titles = [u["title"] for u in report["items_used"]["continual"]]
    assert f"procedural: {SOP_TITLE}" in titles
    assert "procedural" in report["levels"]
    assert "mean score [95% CI]" in (out / "report.html").read_text()
    _no_machine_paths(out, tmp_path)
    # the instances are kept with the results, as task folders
    assert (out / "suites" / "curve" / cont1.name / "task.md").is_file()

    # --resume finds everything done and changes nothing
    before = (out / "results.jsonl").read_text()
    again = _parser().parse_args([*argv, "--resume"])
    await run_learning_curve(again, "python -m evals.learning_curve --resume", llm=build())
    assert (out / "results.jsonl").read_text() == before


def test_rounds_give_each_pass_its_own_tasks(tmp_path: Path) -> None:
    from evals.bench import plan_protocol
    from evals.suites._instances import instance, write_instances
    from evals.tasks import load_suite

    specs = [instance("expenses", "micro", s) for s in range(4)]
    write_instances(specs, tmp_path)
    tasks = load_suite("instances", tmp_path)
    rounds = [tasks[:2], tasks[2:]]
    (run,) = plan_protocol("continual", suite="instances", tasks=[], rounds=rounds)
    assert run.iterations == 2 and run.tasks == tasks and run.attempts == 4
    assert run.tasks_at(1) == tasks[:2] and run.tasks_at(2) == tasks[2:]
    learn, evaluation = plan_protocol(
        "transfer",
        suite="instances",
        tasks=[],
        rounds=rounds,
        transfer_suite="x",
        transfer_tasks=tasks[:1],
    )
    assert learn.tasks_at(2) == tasks[2:] and evaluation.tasks_at(1) == tasks[:1]
    assert evaluation.rounds is None
    (fixed,) = plan_protocol("continual", suite="instances", tasks=tasks, iterations=3)
    assert fixed.tasks_at(3) == tasks and fixed.attempts == 12


async def test_seeds_repeat_the_protocol_on_other_instances_and_pool_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("JOURNEYMAN_MEMORY__PATH", str(tmp_path / "default-memory"))
    argv = [
        "--out-root", str(tmp_path), "--name", "rep", "--model", "evals.bench.scripted_curve:build",
        "--iterations", "1", "--families", "sales-report", "--tiers", "micro",
        "--transfer-per-tier", "0", "--seeds", "2",
    ]  # fmt: skip
    out = await run_learning_curve(
        _parser().parse_args(argv), "learning_curve --seeds 2", llm=build()
    )
    tasks = []
    for r in (0, 1):
        results = ResultsStore(out / f"seed-{r}").results()
        assert {x.protocol for x in results} == {"continual", "no-memory"}
        tasks.append({x.task for x in results})
        assert (out / f"seed-{r}" / "report.html").is_file()
    assert not tasks[0] & tasks[1], "each repeat draws its own instances"
    pooled = json.loads((out / "report.json").read_text())
    assert [p["attempts"] for p in pooled["curves"]["continual"]] == [2]
    _no_machine_paths(out / "seed-0", tmp_path)
    for name in ("report.json", "report.html"):
        assert str(tmp_path) not in (out / name).read_text()


def test_a_run_folder_it_cannot_go_on_with_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No traceback for a folder that already holds a run: the message says what to do."""
    from evals.bench import ResultsStore
    from evals.bench.records import Manifest, ProtocolRun
    from evals.learning_curve import main

    out = tmp_path / "held"
    out.mkdir()
    store = ResultsStore(out)
    store.save_manifest(
        Manifest(runs={"continual": ProtocolRun(protocol="continual", suite="curve", tasks=[],
                                                model="evals.bench.scripted_curve:build")})
    )  # fmt: skip
    argv = [
        "--out-root", str(tmp_path), "--name", "held", "--model", "evals.bench.scripted_curve:build",
        "--iterations", "1", "--families", "expenses", "--tiers", "micro", "--transfer-per-tier", "0",
    ]  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert str(stop.value).startswith("learning-curve: ") and "add --resume" in str(stop.value)


def test_a_later_first_repeat_draws_instances_the_default_run_never_draws() -> None:
    from evals.learning_curve import plan_repeat

    default = plan_repeat(_parser().parse_args([]), 0)
    fresh = plan_repeat(_parser().parse_args(["--first-repeat", "7"]), 0)
    assert {s.name for s in default.specs}.isdisjoint({s.name for s in fresh.specs})
    assert len(default.specs) == len(fresh.specs)
