"""The skills family of issue 17: oracles, and the runner end to end with a scripted model
that solves the first instance by hand and calls the learned skill afterwards."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "evals" / "probes"))
from csv_wordings import TASKS
from skills_family import FAMILY, main

from agent.llm import FunctionLLM
from agent.models import Distillation, Plan, Reflection


def test_family_is_one_kind_with_its_own_wordings(tmp_path: Path) -> None:
    assert len(FAMILY) == 6
    theirs = {t.input_name for t in TASKS} | {c for t in TASKS for c in t.header}
    ours = {t.input_name for t in FAMILY} | {c for t in FAMILY for c in t.header}
    assert not theirs & ours
    assert len({t.task.split()[0] for t in FAMILY}) == 6  # six different openings
    for t in FAMILY:
        t.write_input(tmp_path)
        with (tmp_path / t.output_name).open("w", newline="") as f:
            csv.writer(f).writerows([t.out_header, *sorted(t.expected().items())])
        assert t.correct(tmp_path)


_COLUMNS = re.compile(r"columns \(,-separated\): (\w+), (\w+)")
_FILE = re.compile(r"[\w]+\.csv")


def _reply(messages: list[Any], tools: Any, output: Any) -> Any:
    task = messages[-1].content
    if output is Plan:
        goal = re.search(r"Task: (.*)", "\n".join(m.content for m in messages))
        return {"subtasks": [{"goal": goal.group(1) if goal else task}]}
    if output is Reflection:
        return {"achieved": True, "evidence": "file written", "memory": []}
    if output is Distillation:
        return {"lessons": []}
    text = "\n".join(m.content for m in messages)
    if any(m.role == "tool" for m in messages):
        return {"final_answer": "written"}
    key, value = _COLUMNS.search(text).groups()  # type: ignore[union-attr]
    files = list(dict.fromkeys(_FILE.findall(text.split("Now do subtask")[-1])))
    source = next(f for f in files if f"{f}:\ncolumns" in text)
    target = next(f for f in files if f != source)
    skill = next((t for t in tools or [] if t.name.startswith("skill_")), None)
    if skill is not None:
        args = {"input_file": source, "output_file": target, "column": key, "column_2": value}
        return {"tool": skill.name, "arguments": args}
    code = (
        "import csv\nt = {}\n"
        f"for r in csv.DictReader(open('{source}')):\n"
        f"    t[r['{key}']] = t.get(r['{key}'], 0) + int(r['{value}'])\n"
        f"w = csv.writer(open('{target}', 'w', newline=''))\n"
        f"w.writerow(['{key}', '{value}'])\nw.writerows(sorted(t.items()))\n"
    )
    return {"tool": "python_run", "arguments": {"code": code}}


def family_llm(settings: Any) -> FunctionLLM:
    """``JOURNEYMAN_LLM=test_probe_family:family_llm``."""
    return FunctionLLM(_reply, name="family-script")


def test_runner_learns_once_and_calls_the_skill_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYMAN_LLM", "test_probe_family:family_llm")
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    out = tmp_path / "runs.json"
    asyncio.run(main(["--out", str(out), "--only", "parcels", "donations", "players"]))
    data = json.loads(out.read_text())
    rows = {(r["instance"], r["memory"]): r for r in data["rows"]}
    assert all(r["success"] for r in rows.values())
    assert rows["parcels", True]["skill_calls"] == 0  # nothing learned yet
    assert rows["donations", True]["skill_calls"] == 1
    assert rows["players", True]["skill_calls"] == 1
    assert all(rows[n, False]["skill_calls"] == 0 for n in ("parcels", "donations", "players"))
    assert [s["status"] for s in data["skills"]] == ["active"]
