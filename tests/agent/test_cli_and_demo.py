"""The commands: exit codes and JSONL of `journeyman run`, and the demo with a scripted model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from _agent_helpers import make_settings


def _main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str]:
    from agent.cli import main

    monkeypatch.setattr(sys, "argv", ["journeyman", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0), capsys.readouterr().out


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("JOURNEYMAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (tmp_path / "ws").mkdir()
    return tmp_path


def test_run_json_achieved_exits_0(env: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("JOURNEYMAN_LLM", "_agent_helpers:demo_llm")
    (env / "ws" / "sales.csv").write_text("date,region,product,amount\n1,North,x,5\n2,South,y,7\n")
    code, out = _main(
        monkeypatch,
        capsys,
        "run",
        "Total the amount per region in sales.csv and write report.csv with the columns region,amount.",
        "--workspace",
        "ws",
        "--memory",
        "mem",
        "--json",
    )
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0, events[-1]
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    assert (env / "ws" / "report.csv").read_text().splitlines() == [
        "region,amount",
        "North,5",
        "South,7",
    ]


def test_run_learns_into_its_namespace(env: Path, monkeypatch, capsys) -> None:
    from memory import MemorySettings, MemoryStore

    monkeypatch.setenv("JOURNEYMAN_LLM", "_agent_helpers:demo_llm")
    (env / "ws" / "sales.csv").write_text("date,region,product,amount\n1,North,x,5\n2,South,y,7\n")
    task = "Total the amount per region in sales.csv and write report.csv with the columns region,amount."
    argv = ("run", task, "-w", "ws", "--memory", "mem", "--json")
    code, _out = _main(monkeypatch, capsys, *argv, "--namespace", "agent/alex")
    assert code == 0
    with MemoryStore.open(env / "mem", readonly=True) as store:
        assert store.list_items() == []  # nothing in "default"
    alex = MemorySettings(namespace="agent/alex")
    with MemoryStore.open(env / "mem", settings=alex, readonly=True) as store:
        learned = store.list_items()
        assert learned and {it.namespace for it in learned} == {"agent/alex"}
    code, _out = _main(monkeypatch, capsys, *argv, "--namespace", "Alex")
    assert code == 2  # the message: tests/memory/test_cli.py


def test_run_not_achieved_exits_1(env: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("JOURNEYMAN_LLM", "_agent_helpers:stubborn_llm")
    code, out = _main(
        monkeypatch, capsys, "run", "Do it", "-w", "ws", "--memory", "mem", "--no-learn", "--json"
    )
    assert code == 1
    assert json.loads(out.splitlines()[-1])["data"]["outcome"] == "failed"


def test_unknown_profile_exits_2(env: Path, monkeypatch, capsys) -> None:
    code, _ = _main(monkeypatch, capsys, "run", "Do it", "--model", "no-such-profile")
    assert code == 2


def test_resume_unknown_thread_exits_2(env: Path, monkeypatch, capsys) -> None:
    code, _ = _main(monkeypatch, capsys, "resume", "no-such-thread")
    assert code == 2


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_demo_with_scripted_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    from agent.demo import run_demo

    monkeypatch.setenv("JOURNEYMAN_LLM", "_agent_helpers:demo_llm")
    report = await run_demo(make_settings(tmp_path), keep=tmp_path / "demo", seed=seed)
    first, second = report.runs
    assert first.task != second.task
    assert first.correct and second.correct and first.achieved and second.achieved
    # the first run's script became a skill (ids carry the level), and the run left its
    # episode record; the second run was offered the skill with its arguments filled in
    # from its own task, and called it
    assert [i[0] for i in first.items_written] == ["k", "e"] and not first.recalled
    assert first.items_written[0] in second.items_used and second.used_learned
    assert second.skill_calls and second.skill_calls[0].startswith("skill_")
    assert any(n.startswith("second run called: skill_") for n in report.notes)
