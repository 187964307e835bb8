"""Judged attempts of a benchmark's runs as corpus entries (tests/agent/data/judged_attempts.jsonl).

A run that ended "achieved" was judged done by the model and the rules of its code; its
grade says whether it was. Each becomes one entry: the task as the goal, every action the
run took as the attempt, the verdict "achieved", the truth "graded full". The replay
(evals/probes/corpus.py) then says which false successes today's rules catch and that no
right one is overruled. The run's workspace is not kept, so the file rules are not
replayed on these entries (``"workspace": false``).

    PYTHONPATH=$PWD .venv/bin/python evals/probes/from_runs.py evals/results/learning-curve-fcbf833
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from agent.state import ToolStep


def actions(run: Path) -> list[dict[str, Any]]:
    """The run's tool steps, in order, as records."""
    out: list[dict[str, Any]] = []
    for line in (run / "actions.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        result = event.get("result")
        if event.get("event") != "result" or not result:
            continue
        step = ToolStep(
            subtask=0,
            attempt=0,
            call_id=str(event.get("key", len(out))),
            tool=result["tool"],
            arguments=result.get("arguments") or {},
            output=result.get("output") or "",
            error=result.get("error"),
        )
        out.append(step.model_dump(mode="json"))
    return out


def entries(folder: Path) -> list[dict[str, Any]]:
    """One entry for each run of ``folder`` judged achieved."""
    out = []
    for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        run = folder / "runs" / result["thread_id"]
        if result["outcome"] != "achieved" or not (run / "actions.jsonl").is_file():
            continue
        task = json.loads((run / "run.json").read_text(encoding="utf-8"))["task"]
        out.append(
            {
                "label": f"run:{result['family']}-{result['difficulty']}",
                "model": f"local:{result['model']}",
                "goal": task,
                "task": task,
                "attempt": actions(run),
                "model_verdict": True,
                "truth": bool(result["full"]),
                "workspace": False,  # not kept: the file rules are not replayed
                "source": f"{folder.name}/runs/{result['thread_id']}",
            }
        )
    return out


if __name__ == "__main__":
    for name in sys.argv[1:]:
        for entry in entries(Path(name)):
            print(json.dumps(entry, ensure_ascii=False))
