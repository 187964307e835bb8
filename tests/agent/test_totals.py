"""Totals checked by code (agent/totals.py): a table of sums per group recomputed from its
input overrules the reflector both ways. The wordings and tables here are used nowhere
else (not the demo's family, not the CSV probes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _agent_helpers import answer, call, file_registry, plan, verdict

from agent.build import build_agent
from agent.llm import ScriptedLLM
from agent.runner import Event, run_task
from agent.totals import check_totals

SHIPMENTS = "week\tregion\tcarrier\tunits\n1\tWest\tDHL\t40\n1\tEast\tUPS\t15\n2\tWest\tUPS\t2.5\n"
TASK = (
    "For each region, add up the units in shipments.tsv and save region_units.csv with the "
    "header region,units."
)


def _ws(tmp_path: Path, output: str | None = None) -> Path:
    (tmp_path / "shipments.tsv").write_text(SHIPMENTS)
    if output is not None:
        (tmp_path / "region_units.csv").write_text(output)
    return tmp_path


def test_right_totals_are_verified_in_any_row_order(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "Region,Units\nEast,15\nWest,42.5\n")
    check = check_totals(TASK, ws, {"region_units.csv"})
    assert check is not None and check.right
    assert (check.source, check.output) == ("shipments.tsv", "region_units.csv")
    assert "each of the 2 region values of shipments.tsv" in check.detail


@pytest.mark.parametrize(
    ("table", "detail"),
    [
        (
            "region,units\nWest,40\nEast,15\n",
            "the units of 'West' is 40, but the units column of shipments.tsv sums to 42.5",
        ),
        ("region,units\nWest,42.5\n", "region_units.csv has no row for 'East'"),
        ("region,units\nWest,42.5\nEast,15\nNorth,0\n", "a row for 'North'"),
        ("region,units\nWest,42.5\nEast,15\nEast,0\n", "3 rows for 2 groups"),
        ("region,units\nWest,42.5\nEast,n/a\n", "'n/a' as a total"),
    ],
)
def test_wrong_totals_are_named(tmp_path: Path, table: str, detail: str) -> None:
    check = check_totals(TASK, _ws(tmp_path, table), {"region_units.csv"})
    assert check is not None and not check.right and detail in check.detail


@pytest.mark.parametrize(
    "task",
    [
        # other aggregates, or no stated two-column header
        "Average the units per region in shipments.tsv into region_units.csv (region,units).",
        "Count the shipments per region in shipments.tsv; columns region,units in region_units.csv.",
        "For each region, add up the units in shipments.tsv and save region_units.csv.",
        "Add up units and weeks per region from shipments.tsv into region_units.csv "
        "(columns region,week,units).",
        # a column the input does not have
        "Total the parcels per region in shipments.tsv into region_units.csv (columns region,parcels).",
        # a share of the whole, however it is said
        "Give each region's share of the units in shipments.tsv: region_units.csv, region,units.",
        "Sum units per region (shipments.tsv) as market share in region_units.csv: region,units.",
    ],
)
def test_other_tasks_are_not_checked(tmp_path: Path, task: str) -> None:
    assert check_totals(task, _ws(tmp_path, "region,units\nWest,1\n"), {"region_units.csv"}) is None


def test_not_checked_before_the_output_is_written_or_on_words(tmp_path: Path) -> None:
    ws = _ws(tmp_path, "region,units\nEast,15\nWest,42.5\n")
    assert check_totals(TASK, ws, set()) is None  # the run did not write it
    (tmp_path / "shipments.tsv").write_text("region\tunits\nWest\tmany\n")
    assert check_totals(TASK, ws, {"region_units.csv"}) is None  # not numbers


SCRIPT = """python3 - <<'EOF'
import csv
totals = {}
with open('shipments.tsv') as f:
    for row in csv.DictReader(f, delimiter='\\t'):
        totals[row['region']] = totals.get(row['region'], 0) + float(row['units'])
with open('region_units.csv', 'w') as out:
    out.write('region,units\\n' + ''.join(f'{k},{v:g}\\n' for k, v in totals.items()))
EOF"""


async def _run(settings, workspace: Path, script: list) -> tuple:
    (workspace / "shipments.tsv").write_text(SHIPMENTS)
    agent = build_agent(
        settings, llm=ScriptedLLM(script), memory=False, workspace=workspace,
        registry=file_registry(), profile="local",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(agent, TASK, on_event=events.append)
    return result, [e.data for e in events if e.event == "reflection"]


async def test_a_right_table_judged_failed_is_verified_by_code(settings, workspace: Path) -> None:
    result, judged = await _run(
        settings,
        workspace,
        [
            call("shell_run", command=SCRIPT),
            answer("region_units.csv written"),
            verdict(False, analysis="the header 'West,40' is still in the file"),  # wrong
        ],
    )
    assert result.achieved and result.subtasks[0].attempts == 0
    assert [r["achieved"] for r in judged] == [True]
    assert judged[0]["verified"].startswith("region_units.csv holds the sum of units")
    assert judged[0]["evidence"].startswith("verified by code:") and judged[0]["rule"] is None
    assert judged[0]["model_achieved"] is False  # the model's own verdict, kept on record


async def test_wrong_totals_judged_done_are_overruled(settings, workspace: Path) -> None:
    wrong = SCRIPT.replace("float(row['units'])", "int(float(row['units']))")  # 42 for 42.5
    result, judged = await _run(
        settings,
        workspace,
        [
            call("shell_run", command=wrong),
            answer("done"),
            verdict(True),  # fooled
            call("shell_run", command=SCRIPT),
            answer("done"),
            verdict(True),
        ],
    )
    assert result.achieved and result.subtasks[0].attempts == 1
    assert [r["rule"] for r in judged] == ["wrong_totals", None]
    assert (
        "the units of 'West' is 42, but the units column of shipments.tsv sums to 42.5"
        in judged[0]["evidence"]
    )


async def test_a_typed_table_is_never_verified(settings, workspace: Path) -> None:
    """Right numbers written by hand: the input was never read, so no code check flips a
    failure (input_unused would break the success)."""
    result, judged = await _run(
        settings,
        workspace,
        [
            call(
                "file_write", path="region_units.csv", content="region,units\nWest,42.5\nEast,15\n"
            ),
            answer("written"),
            verdict(False),
            call("file_read", path="region_units.csv"),
            answer("written"),
            verdict(False),
            plan("write region_units.csv again"),  # the one replan
            call("file_read", path="region_units.csv"),
            answer("written"),
            verdict(False),
            call("file_read", path="region_units.csv"),
            answer("written"),
            verdict(False),
        ],
    )
    assert not result.achieved and all(not r["achieved"] and not r["verified"] for r in judged)


async def test_a_verified_table_stands_against_a_rule_on_the_plans_wording(
    settings, workspace: Path
) -> None:
    """The planner's done_when names a helper script the attempt never wrote: file_missing
    would fail the attempt, but the task's table was recomputed by code and is right."""
    (workspace / "shipments.tsv").write_text(SHIPMENTS)
    step = {
        "goal": "Sum the units per region into region_units.csv",
        "done_when": "sum_units.py exists and region_units.csv holds the totals",
    }
    llm = ScriptedLLM(
        [
            {"subtasks": [step]},
            call("shell_run", command=SCRIPT),
            answer("done"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry()
    )
    events: list[Event] = []
    result = await run_task(agent, TASK, on_event=events.append)
    judged = [e.data for e in events if e.event == "reflection"]
    assert result.achieved and not (workspace / "sum_units.py").exists()
    assert judged[0]["rule"] is None and judged[0]["model_achieved"] is True
    assert judged[0]["evidence"].startswith("verified by code:")


def test_a_task_that_names_a_file_share_is_still_checked(tmp_path: Path) -> None:
    """ "share" in "on the file share" is where the input lives, not an aggregate (the
    check stood aside on every curve task whose input came from the company share)."""
    ws = _ws(tmp_path, "region,units\nEast,15\nWest,4\n")
    task = (
        "`shipments.tsv` on the depot's file share lists the week's parcels. Total the units "
        "for each region into `region_units.csv` (header `region,units`).\n\nApps you can "
        "use:\n- Depot share: http://127.0.0.1:9 (to upload, `curl -T a.csv http://127.0.0.1:9/a.csv`)"
    )
    check = check_totals(task, ws, {"region_units.csv"})
    assert check is not None and not check.right and "sums to 42.5" in check.detail


# a period of a date column as the group (the curve's sales table was grouped by month of
# its `date`; here timesheets and payments, worded otherwise)
HOURS = "day,person,hours\n2026-03-02,ana,7.5\n2026-03-17,ben,8\n2026-04-01,ana,6\n"
BY_MONTH = (
    "Sum the `hours` of timesheet.csv per month (YYYY-MM, from `day`) into hours-by-month.csv "
    "with the header month,hours."
)


def _hours(tmp_path: Path, table: str, name: str = "hours-by-month.csv") -> Path:
    (tmp_path / "timesheet.csv").write_text(HOURS)
    (tmp_path / name).write_text(table)
    return tmp_path


def test_totals_per_month_of_a_date_column_are_recomputed(tmp_path: Path) -> None:
    ws = _hours(tmp_path, "month,hours\n2026-04,6.00\n2026-03,15.50\n")
    check = check_totals(BY_MONTH, ws, {"hours-by-month.csv"})
    assert check is not None and check.right and "2 month values" in check.detail


@pytest.mark.parametrize(
    ("table", "detail"),
    [
        # another column summed (the curve's false success summed units for revenue)
        ("month,hours\n2026-03,2\n2026-04,1\n", "the hours of '2026-03' is 2, but"),
        # the task states YYYY-MM: months by name are not its rows
        ("month,hours\nMarch,15.5\nApril,6\n", "has no row for '2026-03'"),
    ],
)
def test_wrong_totals_per_month_are_named(tmp_path: Path, table: str, detail: str) -> None:
    check = check_totals(BY_MONTH, _hours(tmp_path, table), {"hours-by-month.csv"})
    assert check is not None and not check.right and detail in check.detail


def test_a_period_the_task_gives_no_format_for_is_judged_only_in_iso_form(tmp_path: Path) -> None:
    task = "For every month, total the hours in timesheet.csv; write monthly.csv with columns month,hours."
    ws = _hours(tmp_path, "month,hours\n2026-03,15.5\n2026-04,6\n", "monthly.csv")
    check = check_totals(task, ws, {"monthly.csv"})
    assert check is not None and check.right
    (ws / "monthly.csv").write_text("month,hours\n2026-03,15.5\n2026-04,9\n")
    check = check_totals(task, ws, {"monthly.csv"})
    assert check is not None and not check.right
    (ws / "monthly.csv").write_text("month,hours\nMar 2026,15.5\nApr 2026,6\n")
    assert check_totals(task, ws, {"monthly.csv"}) is None  # its own format: not judged


def test_the_date_column_the_task_names_gives_the_period(tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text(
        "invoiced_on,paid_on,amount\n2025-12-20,2026-01-05,100\n2025-11-02,2025-12-01,40.5\n"
        "2026-02-01,2026-02-03,10\n"
    )
    (tmp_path / "yearly.csv").write_text("year,amount\n2026,110\n2025,40.5\n")
    task = "Add up the `amount` per year (YYYY) of the `paid_on` dates in payments.csv into yearly.csv (header year,amount)."
    check = check_totals(task, tmp_path, {"yearly.csv"})
    assert check is not None and check.right
    # by the other date column the sums differ, and a task naming neither is not judged
    task = task.replace("`paid_on`", "`invoiced_on`")
    check = check_totals(task, tmp_path, {"yearly.csv"})
    assert check is not None and not check.right and "sums to 140.5" in check.detail
    untold = (
        "Add up the amount per year (YYYY) in payments.csv into yearly.csv (header year,amount)."
    )
    assert check_totals(untold, tmp_path, {"yearly.csv"}) is None


def test_no_date_column_no_period(tmp_path: Path) -> None:
    (tmp_path / "timesheet.csv").write_text("week,person,hours\n9,ana,7.5\n10,ben,8\n")
    (tmp_path / "hours-by-month.csv").write_text("month,hours\n2026-03,15.5\n")
    assert check_totals(BY_MONTH, tmp_path, {"hours-by-month.csv"}) is None


def test_the_column_the_task_names_is_summed_under_another_header(tmp_path: Path) -> None:
    """ "Sum the `cost` ... header `vendor,spent`": the input has no `spent` column."""
    (tmp_path / "purchases.csv").write_text(
        "po,vendor,qty,cost\nP1,Globex,3,120.50\nP2,Initech,1,80\nP3,Globex,10,19.5\n"
    )
    task = "Sum the `cost` of purchases.csv for each vendor into vendor-spend.csv, header `vendor,spent`."
    (tmp_path / "vendor-spend.csv").write_text("vendor,spent\nGlobex,140.00\nInitech,80.00\n")
    check = check_totals(task, tmp_path, {"vendor-spend.csv"})
    assert check is not None and check.right and "sum of cost" in check.detail
    (tmp_path / "vendor-spend.csv").write_text("vendor,spent\nGlobex,13\nInitech,1\n")  # qty
    check = check_totals(task, tmp_path, {"vendor-spend.csv"})
    assert check is not None and not check.right and "the cost column" in check.detail
    # two columns of numbers named, none in backticks: which one is summed is not clear
    vague = (
        "Total qty and cost of purchases.csv per vendor into vendor-spend.csv, header vendor,spent."
    )
    assert check_totals(vague, tmp_path, {"vendor-spend.csv"}) is None


def test_a_column_named_minutes_is_no_minimum(tmp_path: Path) -> None:
    """ "min" as an aggregate is a minimum, not the start of "minutes" (the check stood aside
    on every task that sums minutes); a month cut from ISO date-times of another column."""
    (tmp_path / "tickets.csv").write_text(
        "id,created_at,queue,minutes\nT1,2026-03-02T10:00:00,web,30\nT2,2026-03-30 09:00,app,15\n"
        "T3,2026-04-01T08:00:00,web,10\n"
    )
    (tmp_path / "monthly.csv").write_text("month,handled\n2026-03,45\n2026-04,10\n")
    task = (
        "For each month (YYYY-MM) of `created_at`, add up the `minutes` in tickets.csv and save "
        "monthly.csv with the header `month,handled`."
    )
    check = check_totals(task, tmp_path, {"monthly.csv"})
    assert check is not None and check.right
    minimum = task.replace("add up the", "find the minimum of the")
    assert check_totals(minimum, tmp_path, {"monthly.csv"}) is None
