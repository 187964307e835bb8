"""The agent with the real local model (slow; `make test-slow`), also a script printing figures:

.venv/bin/python tests/agent/test_local_agent.py csv ["TASK IN OTHER WORDS"] | demo [SEED]
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
CSV_TASK = (
    "Aggregate sales.csv into a new file totals.csv with one row per region and the sum of "
    "amount for each region; columns region,total."
)
pytestmark = [pytest.mark.slow, pytest.mark.local_model]


def _settings(tmp: Path) -> Any:
    from agent.config import Settings

    return Settings(runs_dir=tmp / "runs", memory={"path": tmp / "memory"})


def _have_model(settings: Any, profile: str = "local") -> bool:
    from agent.local import get_model

    prof = settings.all_profiles()[profile]
    name = get_model(prof.local_model).file_name
    return (settings.local.cache_dir.expanduser() / name).is_file()


class CallLog:
    """Wraps the model to log each call's role, prompt size and time."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.rows = inner, []

    @property
    def name(self) -> str:
        return str(self.inner.name)

    async def complete(self, messages: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        reply = await self.inner.complete(messages, **kw)
        out = kw.get("output")
        role = out.__name__ if out is not None else "executor"
        self.rows.append(
            (role, reply.usage.input_tokens, reply.usage.output_tokens, time.perf_counter() - t)
        )
        print(
            f"  {role:12} in {reply.usage.input_tokens:5} out {reply.usage.output_tokens:4} "
            f"{time.perf_counter() - t:6.1f} s  {(reply.text or str(reply.tool_calls))[:100]!r}",
            flush=True,
        )
        return reply


async def csv_task(tmp: Path, task: str = CSV_TASK) -> dict[str, Any]:
    """The prompt-economy task (or another wording of it) with the local 1.5B model;
    returns its figures."""
    from agent.build import build_agent
    from agent.llm import build_llm
    from agent.local import amanaged_model
    from agent.runner import run_task

    settings = _settings(tmp)
    ws = tmp / "ws"
    ws.mkdir(parents=True)
    shutil.copy(HERE / "data" / "sales.csv", ws / "sales.csv")
    async with amanaged_model(settings, "local") as url:
        llm = CallLog(build_llm(settings, "local", base_url=url))
        t = time.perf_counter()
        async with build_agent(settings, llm=llm, workspace=ws, profile="local") as agent:
            result = await run_task(agent, task)
    rows = (ws / "totals.csv").read_text().splitlines() if (ws / "totals.csv").is_file() else []
    return {
        "outcome": result.outcome,
        "calls": result.usage.calls,
        "prompt_tokens": result.usage.input_tokens,
        "output_tokens": result.usage.output_tokens,
        "seconds": round(time.perf_counter() - t, 1),
        "totals.csv": rows,
    }


def test_csv_task_prompt_economy(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    if not _have_model(settings):
        pytest.skip("the local model is not pulled (journeyman model pull local)")
    figures = asyncio.run(csv_task(tmp_path))
    print(figures)
    assert figures["calls"] <= 10 and figures["prompt_tokens"] <= 20_000, figures


@pytest.mark.timeout(1800)  # two runs of a 1.5B model on two cores
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_second_run_uses_what_the_first_learned(tmp_path: Path, seed: int) -> None:
    """The demo with the default local model: on each of three seeds (other tables, other
    wordings) the second run's output is correct (checked by code) and it used an item the
    first run wrote."""
    from agent.demo import run_demo

    settings = _settings(tmp_path)
    if not _have_model(settings):
        pytest.skip("the local model is not pulled (journeyman model pull local)")
    report = asyncio.run(run_demo(settings, profile="local", keep=tmp_path / "demo", seed=seed))
    for run in report.runs:
        print(
            run.model_dump(
                include={
                    "label",
                    "outcome",
                    "correct",
                    "calls",
                    "tokens",
                    "elapsed_s",
                    "skill_calls",
                }
            )
        )
    first, second = report.runs
    assert second.correct, report.notes
    assert set(second.items_used) & set(first.items_written), report.notes


if __name__ == "__main__":
    tmp = Path(tempfile.mkdtemp(prefix="jm-local-"))
    if sys.argv[1:2] == ["demo"]:
        from agent.cli._view import LinePrinter, print_demo
        from agent.demo import run_demo

        rep = asyncio.run(
            run_demo(
                _settings(tmp),
                profile="local",
                keep=tmp / "demo",
                seed=int(sys.argv[2]) if sys.argv[2:] else 1,
                on_event=LinePrinter,
            )
        )
        print_demo(rep)
    else:  # csv ["another wording of the task"]
        print(asyncio.run(csv_task(tmp, *sys.argv[2:3])))
