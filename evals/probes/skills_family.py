"""Issue 17: six file tasks of one kind (group a table and total a column), run by the local
model with memory (continual, one store) and without, to see whether later instances call
the skill induced from the first verified success.

Files, columns, data and wordings are this family's own: none is a wording of
``csv_wordings.py`` or of the tests. Each run is checked by code (the output's header and
sums), never by a model.

    PYTHONPATH=$PWD nice -n 5 .venv/bin/python evals/probes/skills_family.py \\
        --profile local --out evals/results/skills-family/runs.json --max-wall-s 300
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
from csv_wordings import CsvTask
from run import _settings

FAMILY = [
    CsvTask(
        "parcels",
        "parcels.csv lists deliveries. Write the total weight_kg for each courier to "
        "courier_weight.csv (columns courier,weight_kg).",
        "parcels.csv", ("courier", "weight_kg"),
        (("Ada", 12), ("Bo", 7), ("Ada", 3), ("Cy", 20), ("Bo", 4)),
        "courier_weight.csv", ("courier", "weight_kg"),
    ),
    CsvTask(
        "donations",
        "Using donations.csv, add up what every donor pledged and store the totals in "
        "donor_totals.csv with the header donor,pledged.",
        "donations.csv", ("donor", "pledged"),
        (("Kim", 50), ("Lee", 20), ("Kim", 25), ("Max", 10), ("Lee", 5), ("Max", 40)),
        "donor_totals.csv", ("donor", "pledged"),
    ),
    CsvTask(
        "players",
        "How many minutes did each player play? Sum the minutes per player from match_log.csv "
        "into player_minutes.csv (player,minutes).",
        "match_log.csv", ("player", "minutes"),
        (("Ines", 90), ("Tom", 45), ("Ines", 30), ("Raul", 60), ("Tom", 15)),
        "player_minutes.csv", ("player", "minutes"),
    ),
    CsvTask(
        "meters",
        "Total the kwh column of meter_readings.csv per building and write building_kwh.csv "
        "with the columns building,kwh.",
        "meter_readings.csv", ("building", "kwh"),
        (("B1", 120), ("B2", 80), ("B1", 40), ("B3", 15), ("B2", 10), ("B3", 5)),
        "building_kwh.csv", ("building", "kwh"),
    ),
    CsvTask(
        "commits",
        "For every dev in commits.csv, compute the sum of lines_added and save it as "
        "dev_lines.csv (dev,lines_added).",
        "commits.csv", ("dev", "lines_added"),
        (("mara", 200), ("joe", 35), ("mara", 12), ("pat", 8), ("joe", 100)),
        "dev_lines.csv", ("dev", "lines_added"),
    ),
    CsvTask(
        "stock",
        "Create warehouse_stock.csv holding, per warehouse, the summed quantity from "
        "stock_moves.csv (columns warehouse,quantity).",
        "stock_moves.csv", ("warehouse", "quantity"),
        (("north", 30), ("south", 12), ("north", 8), ("east", 50), ("south", 3)),
        "warehouse_stock.csv", ("warehouse", "quantity"),
    ),
]  # fmt: skip


async def _one(settings: Any, llm: Any, t: CsvTask, ws: Path, store: Any) -> dict[str, Any]:
    from agent.build import build_agent
    from agent.runner import Event, run_task

    calls: list[str] = []
    learned: list[str] = []

    def on_event(e: Event) -> None:
        if e.event == "observation":
            calls.append(e.data["tool"] + ("!" if e.data.get("error") else ""))
        elif e.event == "reflection" and e.data.get("learned"):
            learned.append(e.data["learned"])

    t.write_input(ws)
    start = time.perf_counter()
    async with build_agent(
        settings, llm=llm, workspace=ws, profile=settings.model,
        memory=store if store is not None else False,
    ) as agent:  # fmt: skip
        result = await run_task(agent, t.task, on_event=on_event)
    return {
        "instance": t.name,
        "memory": store is not None,
        "success": t.correct(ws),
        "run_achieved": result.achieved,
        "calls": result.usage.calls,
        "tokens": result.usage.input_tokens + result.usage.output_tokens,
        "prompt_tokens": result.usage.input_tokens,
        "seconds": round(time.perf_counter() - start, 1),
        "actions": calls,
        "skill_calls": sum(c.startswith("skill_") for c in calls),
        "learned": learned,
    }


async def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="local")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--only", nargs="*", help="instance names")
    p.add_argument("--arms", nargs="*", default=["memory", "none"], help="memory and/or none")
    p.add_argument("--max-wall-s", type=float, help="lower the per-task wall-clock budget")
    p.add_argument("--max-steps-per-subtask", type=int, help="lower the per-subtask budget")
    a = p.parse_args(argv)
    limits = {
        k: v
        for k, v in (
            ("max_wall_s", a.max_wall_s),
            ("max_steps_per_subtask", a.max_steps_per_subtask),
        )
        if v is not None
    }

    from agent.build import llm_from_hook
    from agent.llm import build_llm
    from agent.local import amanaged_model
    from memory import MemoryStore

    tmp = Path(tempfile.mkdtemp(prefix="jm-family-"))
    settings = _settings(tmp, limits)
    settings.model = a.profile
    rows: list[dict[str, Any]] = []
    hooked = llm_from_hook(settings)  # $JOURNEYMAN_LLM: a scripted model, to check this script
    serving = contextlib.nullcontext(None) if hooked else amanaged_model(settings, a.profile)
    tasks = [t for t in FAMILY if not a.only or t.name in a.only]
    async with serving as url:
        llm = hooked or build_llm(settings, a.profile, base_url=url)
        with MemoryStore.open(tmp / "memory", settings=settings.memory) as store:
            # arm by arm: with memory first (the instances after the first success are the
            # point), then without
            for arm in a.arms:
                for t in tasks:
                    ws = tmp / f"{arm}-{t.name}"
                    ws.mkdir()
                    row = await _one(settings, llm, t, ws, store if arm == "memory" else None)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    _write(a, settings, rows, store)
    _write(a, settings, rows, None)


def _write(a: argparse.Namespace, settings: Any, rows: list[dict[str, Any]], store: Any) -> None:
    a.out.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "profile": a.profile,
        "limits": settings.limits.model_dump(),
        "rows": rows,
    }
    if store is not None:
        data["skills"] = [
            {"id": it.id, "title": it.title, "status": it.status, "when": it.when_to_use}
            for it in store.list_items(level="skill")
        ]
        data["tips"] = [
            {"id": it.id, "title": it.title, "trust": it.trust}
            for it in store.list_items(level="tool")
        ]
    elif a.out.exists():  # keep what the store held at the last write
        old = json.loads(a.out.read_text())
        data |= {k: old[k] for k in ("skills", "tips") if k in old}
    a.out.write_text(json.dumps(data, indent=2))


def table(data: dict[str, Any]) -> str:
    """The per-instance table of a results file (markdown), with and without memory."""
    lines = [
        "| instance | memory | success | skill calls | model calls | tokens | seconds | actions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['instance']} | {'with' if r['memory'] else 'without'} | "
            f"{'yes' if r['success'] else 'no'} | {r['skill_calls']} | {r['calls']} | "
            f"{r['tokens']} | {r['seconds']} | {', '.join(r['actions']) or '-'} |"
        )
    for arm in (True, False):
        rows = [r for r in data["rows"] if r["memory"] is arm]
        if rows:
            lines.append(
                f"\n{'With' if arm else 'Without'} memory: {sum(r['success'] for r in rows)}/"
                f"{len(rows)} correct, {sum(r['calls'] for r in rows)} model calls, "
                f"{sum(r['tokens'] for r in rows)} tokens, "
                f"{round(sum(r['seconds'] for r in rows))} s."
            )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--table"]:  # print the table of a results file
        print(table(json.loads(Path(sys.argv[2]).read_text())))
    else:
        asyncio.run(main())
