"""Measure issue 16 with a local model: the ten pages and the five CSV wordings.

Every judged attempt is recorded with the page's (or the CSV oracle's) truth at the
moment of the verdict, into a JSONL corpus that ``tests/agent/test_evidence_corpus.py``
replays through the evidence rules. Standalone: run it under another branch's
PYTHONPATH to get the "before" figures (the rules then do not exist; the corpus records
the model's verdicts either way).

    PYTHONPATH=$PWD .venv/bin/python evals/probes/run.py pages --profile local --out R.json
    PYTHONPATH=$PWD .venv/bin/python evals/probes/run.py csv --profile local --out R.json \
        --corpus tests/agent/data/judged_attempts.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from csv_wordings import TASKS
from pages import PAGES, Rewards, serve, task_text


def _settings(tmp: Path, limits: dict[str, Any]) -> Any:
    from agent.config import Settings

    return Settings.model_validate(
        {
            "runs_dir": tmp / "runs",
            "memory": {"path": tmp / "memory"},
            "tools": {"allowed_hosts": ["127.0.0.1"]},
            "limits": limits,
        }
    )


async def _one(
    settings: Any, llm: Any, task: str, ws: Path, truth: Any, corpus: list[dict[str, Any]],
    label: str, registry: Any = None,
) -> dict[str, Any]:  # fmt: skip
    from agent.build import build_agent
    from agent.runner import Event, run_task
    from agent.state import records_from_json

    trajectory: list[dict[str, Any]] = []

    def on_event(e: Event) -> None:
        if e.event in ("step", "observation", "note"):
            trajectory.append(e.data)
        elif e.event == "reflection":
            d = e.data
            attempt = [
                r
                for r in trajectory
                if r["subtask"] == d["subtask"] and r["attempt"] == d["attempt"]
            ]
            before = [
                r
                for r in trajectory
                if (r["subtask"], r["attempt"]) != (d["subtask"], d["attempt"])
            ]
            records_from_json(attempt + before)  # the corpus holds valid records only
            corpus.append(
                {
                    "label": label,
                    "model": llm.name,
                    "goal": goals.get(d["subtask"], task),
                    "attempt": attempt,
                    "before": before,  # the run's records so far (the page states it saw)
                    # older agent code (a "before" run) records no model_achieved: it had
                    # rules that overrule a success only
                    "model_verdict": bool(
                        d["model_achieved"]
                        if d.get("model_achieved") is not None
                        else d["achieved"] or d.get("rule")
                    ),
                    "task": task,
                    "final_verdict": bool(d["achieved"]),
                    "rule": d.get("rule"),
                    "truth": bool(truth()),
                    "files": {
                        p.name: p.read_text(errors="replace")[:2000]
                        for p in ws.iterdir()
                        if p.is_file()
                    },
                }
            )
        elif e.event == "plan":
            for s in e.data["subtasks"]:
                goals[s.get("id", s["index"])] = s["goal"]

    goals: dict[int, str] = {}
    t = time.perf_counter()
    async with build_agent(
        settings, llm=llm, workspace=ws, profile=settings.model, memory=False, registry=registry
    ) as agent:
        result = await run_task(agent, task, on_event=on_event)
    return {
        "label": label,
        "run_exit_0": result.achieved,
        "truth": bool(truth()),
        "calls": result.usage.calls,
        "prompt_tokens": result.usage.input_tokens,
        "seconds": round(time.perf_counter() - t, 1),
    }


def _summary(a: argparse.Namespace, settings: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "runs": len(rows),
        "profile": a.profile,
        "limits": settings.limits.model_dump(),
        "successes_by_reward": sum(r["truth"] for r in rows),
        "run_exit_0_while_reward_failed": sum(r["run_exit_0"] and not r["truth"] for r in rows),
        "rows": rows,
    }


def _flush(
    a: argparse.Namespace, settings: Any, rows: list[dict[str, Any]], corpus: list[dict[str, Any]]
) -> None:
    """Write the summary so far and append the new judged attempts: called after every
    task, so a run cut short keeps what it measured."""
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(_summary(a, settings, rows), indent=2))
    if a.corpus:
        a.corpus.parent.mkdir(parents=True, exist_ok=True)
        with a.corpus.open("a") as f:
            for c in corpus:
                f.write(json.dumps(c) + "\n")
    corpus.clear()


async def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["pages", "csv"])
    p.add_argument("--profile", default="local")
    p.add_argument("--only", nargs="*", help="page or wording names")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--corpus", type=Path, help="append judged attempts here (JSONL)")
    p.add_argument("--max-steps-per-subtask", type=int, help="lower the per-subtask budget")
    p.add_argument("--max-wall-s", type=float, help="lower the per-task wall-clock budget")
    a = p.parse_args(argv)
    limits = {
        k: v
        for k, v in (
            ("max_steps_per_subtask", a.max_steps_per_subtask),
            ("max_wall_s", a.max_wall_s),
        )
        if v is not None
    }

    from agent.build import llm_from_hook
    from agent.llm import build_llm
    from agent.local import amanaged_model

    tmp = Path(tempfile.mkdtemp(prefix="jm-probe-"))
    settings = _settings(tmp, limits)
    settings.model = a.profile
    corpus: list[dict[str, Any]] = []
    rows = []
    hooked = llm_from_hook(settings)  # $JOURNEYMAN_LLM: a scripted model, to check this script
    serving = contextlib.nullcontext(None) if hooked else amanaged_model(settings, a.profile)
    async with serving as url:
        llm = hooked or build_llm(settings, a.profile, base_url=url)
        if a.what == "pages":
            from tools import default_registry

            rewards = Rewards()
            with serve(rewards) as base:
                for page in PAGES:
                    if a.only and page.name not in a.only:
                        continue
                    rewards.reset()
                    ws = tmp / page.name
                    ws.mkdir()
                    row = await _one(
                        settings, llm, task_text(page, base), ws,
                        lambda n=page.name: rewards.reward(n), corpus, f"page:{page.name}",
                        default_registry(enabled=("browser",)),
                    )  # fmt: skip
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    _flush(a, settings, rows, corpus)
        else:
            for t in TASKS:
                if a.only and t.name not in a.only:
                    continue
                ws = tmp / t.name
                ws.mkdir()
                t.write_input(ws)
                row = await _one(
                    settings, llm, t.task, ws, lambda t=t, ws=ws: t.correct(ws), corpus,
                    f"csv:{t.name}",
                )  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
                _flush(a, settings, rows, corpus)
    _flush(a, settings, rows, corpus)
    print(json.dumps({k: v for k, v in _summary(a, settings, rows).items() if k != "rows"}))


if __name__ == "__main__":
    asyncio.run(main())
