"""Evidence rules: each overrules a wrong success and accepts a right one.

Unit tests over records, then end to end with a scripted model (a fooled reflector)
and real file tools; the broken rule is named in the trajectory and the JSON events.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _agent_helpers import answer, call, file_registry, verdict

from agent.build import build_agent
from agent.evidence import broken_rule, effects_asked, is_question
from agent.llm import ScriptedLLM
from agent.runner import Event, run_task
from agent.state import ModelStep, ToolStep
from tools import default_registry

REGISTRY = default_registry()


def read_only(name: str) -> bool:
    return REGISTRY.get(name).read_only


def step(tool: str, output: str = "ok", error: str | None = None, **arguments: object) -> ToolStep:
    return ToolStep(call_id="c", tool=tool, arguments=arguments, output=output, error=error)


PAGE = "URL: http://127.0.0.1:9/\nInteractive elements:\n[1] button 'Save'"


# ---------------------------------------------------------------- effect rule


def test_effect_goal_with_only_navigation_is_broken() -> None:
    goal = "Open http://127.0.0.1:9/ and click the Save button"
    attempt = [step("browser_goto", PAGE, url="http://127.0.0.1:9/"), step("browser_read", PAGE)]
    broken = broken_rule(goal, attempt, read_only=read_only)
    assert broken is not None and broken.rule == "effect_not_done"
    assert "click" in broken.evidence


def test_effect_goal_with_the_matching_action_is_accepted() -> None:
    goal = "Open http://127.0.0.1:9/ and click the Save button"
    attempt = [step("browser_goto", PAGE, url="u"), step("browser_click", PAGE, element_id=1)]
    assert broken_rule(goal, attempt, read_only=read_only) is None


def test_a_failed_effect_does_not_count() -> None:
    goal = "Type 'blue' into the colour field on the page and submit"
    attempt = [step("browser_type", "", error="element 9 not found", element_id=9, text="blue")]
    broken = broken_rule(goal, attempt, read_only=read_only)
    assert broken is not None and "failed" in broken.evidence


def test_a_page_goal_is_not_done_by_writing_a_file() -> None:
    goal = "Tick the 'Newsletter' checkbox on the form"
    attempt = [step("file_write", "wrote 3 bytes", path="x.txt", content="yes")]
    broken = broken_rule(goal, attempt, read_only=read_only)
    assert broken is not None and broken.rule == "effect_not_done"


def test_a_denied_or_replayed_action_does_not_count() -> None:
    goal = "Delete old.log"
    skipped = step("file_delete", "", error="denied", path="old.log")
    skipped = skipped.model_copy(update={"executed": False})
    assert broken_rule(goal, [skipped], read_only=read_only) is not None


# Wordings not used to write the vocabulary: a held-out family check.
EFFECT_WORDINGS = [
    "Hit the green 'Continue' button on the page",
    "Press 'Go' on http://127.0.0.1:9/",
    "Enter 'Ada Lovelace' in the Name field of the form and submit it",
    "Pick 'Medium' from the size dropdown",
    "Untick every checkbox except 'Email'",
    "Archive the three oldest notes",
    "Rename draft.md to final.md",
    "Schedule a call with Dana for Friday",
    "Assign ticket 42 to Bob",
    "Please forward the invoice to finance",
    "Save the cleaned rows as clean.csv",
    "Produce a chart of sales by month in chart.png",
    "Copy notes.txt to the backup folder",
    "Remove the duplicate lines from names.txt",
    "Log in with user demo and password demo",
    "Fill out the signup form with name Sam",
    "Sign up for the newsletter on the site",
    "Append a line 'done' to todo.txt",
    "Reply to the latest mail with 'Thanks'",
    "Export the table to table.json",
]
QUESTION_WORDINGS = [
    "What is the total revenue in q3.csv?",
    "How many rows does people.tsv have",
    "Which region sold the most?",
    "Find the order total of customer 7",
    "Tell me who sent the latest mail",
    "Add up the amounts in ledger.csv and report the sum",
    "Report the largest file in the folder; do not delete anything",
    "Check that report.md exists",
    "Select the rows where revenue > 100 in a.csv and count them",
    "List the copies of the book in the catalogue",
]


# A second set, written after the vocabulary was (held out): 14 of 18 effects and 10 of 10
# questions were recognised as written; mark, merge, switch and invite were then added as
# families (with their kin: combine, enable, disable, share, change, sort, turn ...).
EFFECT_WORDINGS += [
    "Mark the three overdue tasks as done in the tracker page",
    "Press the red Delete button next to row 4",
    "Put the summary into summary.md",
    "Set the status dropdown to 'Closed' on the ticket page",
    "Enter your name in the first text box and click OK",
    "Upload report.pdf through the form",
    "Merge a.csv and b.csv into merged.csv",
    "Move every .log file into the logs folder",
    "Generate a README for the project",
    "Switch the language menu to French",
    "Reserve a table for two at 19:00 on the booking site",
    "Send Priya a chat message saying the build is green",
    "Close ticket #12 with the resolution 'fixed'",
    "Create an event called Standup on Monday at 9",
    "Delete the empty rows of contacts.csv",
    "Sort names.txt alphabetically and save it",
    "Tick 'Remember me' before signing in",
    "Invite Omar to the planning meeting",
]
QUESTION_WORDINGS += [
    "How many tickets are open?",
    "Summarise the notes in meeting.md",
    "Which file is the largest?",
    "What does the Help page say about refunds",
    "Count the rows in people.csv",
    "Read the latest mail and tell me its sender",
    "Is the build green?",
    "Who is assigned to ticket 5?",
    "Look up the price of the blue lamp on the shop page",
    "Compare the totals in jan.csv and feb.csv",
    "List the changes in log.md",
]


@pytest.mark.parametrize("goal", EFFECT_WORDINGS)
def test_effect_wordings_are_recognised(goal: str) -> None:
    assert not is_question(goal), effects_asked(goal)
    assert broken_rule(goal, [step("file_list", "a.txt")], read_only=read_only) is not None


@pytest.mark.parametrize("goal", QUESTION_WORDINGS)
def test_questions_may_succeed_on_an_answer(goal: str) -> None:
    assert is_question(goal), effects_asked(goal)
    assert broken_rule(goal, [step("file_read", "x", path="a.csv")], read_only=read_only) is None


# ---------------------------------------------------------------- output rule


def test_an_output_file_left_empty_is_broken(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_text("")
    goal = "Write the totals to out.csv"
    attempt = [step("python_run", "ran", code="open('out.csv','w')")]
    broken = broken_rule(
        goal, attempt, read_only=read_only, outputs={"out.csv"}, workspace=tmp_path
    )
    assert broken is not None and broken.rule == "output_not_seen"
    (tmp_path / "out.csv").write_text("a,1\n")
    assert (
        broken_rule(goal, attempt, read_only=read_only, outputs={"out.csv"}, workspace=tmp_path)
        is None
    )


@pytest.mark.parametrize(
    ("goal", "out"),
    [  # the curve's sales wording, then others
        (
            "`Shared/q3-sales-352.csv` on the file share lists the Q3 sales. Write `revenue.csv`"
            " in your workspace with the header `product,revenue` and one row per product.",
            "revenue.csv",
        ),
        (
            "Sum the `amount` column of `Finance/claims-7.csv` on the file share for each "
            "employee and put the sums into `totals.csv` in your workspace.",
            "totals.csv",
        ),
        ("Save the per-region totals of sales.csv as region_totals.csv.", "region_totals.csv"),
        ("Create summary.md listing the three largest orders in orders.csv.", "summary.md"),
    ],
)
def test_an_output_the_goal_asks_for_that_no_action_wrote_is_broken(
    tmp_path: Path, goal: str, out: str
) -> None:
    """The 1.5B model printed the sums instead of writing revenue.csv and said it had
    written it; the file check looked only at files the run wrote, so it passed."""
    (tmp_path / "sales.csv").write_text("region,amount\nn,1\n")
    (tmp_path / "orders.csv").write_text("id,total\n1,5\n")
    read = "open('sales.csv'), open('orders.csv'), open('Shared/q3-sales-352.csv')"
    attempt = [step("python_run", "north,1.00", code=f"{read}\nprint('north,1.00')")]
    broken = broken_rule(goal, attempt, read_only=read_only, outputs=set(), workspace=tmp_path)
    assert broken is not None and broken.rule == "output_not_seen"
    assert broken.evidence == f"{out} does not exist: no action wrote it"
    (tmp_path / out).write_text("region,total\nx,1\n")
    attempt = [step("python_run", f"[files written: {out}]", code=f"{read}\nopen('{out}','w')")]
    broken = broken_rule(goal, attempt, read_only=read_only, outputs={out}, workspace=tmp_path)
    assert broken is None or "no action wrote it" not in broken.evidence


@pytest.mark.parametrize(
    "goal",
    [
        "Build the table from `Shared/q3.csv`, upload it as `Reports/by-product.csv`.",
        "Mail report.csv to sam@acme.test with the totals.",
        "Print the mean of the amount column of data.csv.",
        "Write the answer: how many rows does data.csv have?",
        "Upload `report.csv` to the share with WebDAV, e.g. `curl -T report.csv http://h/r.csv`.",
    ],
)
def test_files_that_go_elsewhere_or_are_read_are_not_required_in_the_workspace(
    tmp_path: Path, goal: str
) -> None:
    (tmp_path / "data.csv").write_text("amount\n1\n")
    attempt = [step("python_run", "1", code="print(1)")]
    broken = broken_rule(goal, attempt, read_only=read_only, outputs=set(), workspace=tmp_path)
    assert broken is None or "no action wrote it" not in broken.evidence


@pytest.mark.parametrize(
    ("goal", "out", "right", "wrong"),
    [
        (
            "Count the tickets per agent in tickets.csv; save agent_counts.csv with the header agent,count.",
            "agent_counts.csv", "agent,count\nmia,3\n", "agent,ticket_count\nmia,3\n",
        ),
        (
            "Make scores.csv from exams.csv. Its columns: student, score.",
            "scores.csv", "Student,Score\nbo,7\n", "student\nbo\n",
        ),
        (
            "Put each city's population total from census.csv into cities.tsv (city,population).",
            "cities.tsv", "city\tpopulation\nrome,9\n", "city,population\nrome,9\n",
        ),
    ],
)  # fmt: skip
def test_a_table_with_another_header_than_asked_is_broken(
    tmp_path: Path, goal: str, out: str, right: str, wrong: str
) -> None:
    attempt = [step("python_run", "ran", code="...")]

    def judge() -> object:
        return broken_rule(goal, attempt, read_only=read_only, outputs={out}, workspace=tmp_path)

    (tmp_path / out).write_text(wrong)
    broken = judge()
    assert broken is not None and broken.rule == "header_mismatch"
    assert "asks for exactly" in broken.analysis
    (tmp_path / out).write_text(right)
    assert judge() is None


def test_a_lost_group_column_is_named_with_its_usual_cause(tmp_path: Path) -> None:
    goal = "Per kiln, total the firings in kilns.csv into firings.csv (columns kiln,firings)."
    attempt = [step("python_run", "ran", code="...")]
    (tmp_path / "firings.csv").write_text("firings\n3\n5\n")  # a Series written without index
    broken = broken_rule(
        goal, attempt, read_only=read_only, outputs={"firings.csv"}, workspace=tmp_path
    )
    assert broken is not None and broken.rule == "header_mismatch"
    assert "The first column (kiln) is missing" in broken.analysis
    assert ".reset_index()" in broken.analysis
    (tmp_path / "firings.csv").write_text("kiln,count\nA,3\n")  # another header: no such hint
    other = broken_rule(
        goal, attempt, read_only=read_only, outputs={"firings.csv"}, workspace=tmp_path
    )
    assert other is not None and "reset_index" not in other.analysis


@pytest.mark.parametrize(
    "goal",
    [
        "Add up the claims of every department in claims.csv; write dept.csv.",
        "Put the subtotal for each warehouse into out.csv.",
        "Aggregate bookings.csv by room into out.csv",
    ],
)
def test_rows_copied_instead_of_grouped_are_broken(tmp_path: Path, goal: str) -> None:
    out = "dept.csv" if "dept.csv" in goal else "out.csv"
    attempt = [step("python_run", "ran", code="...")]

    def judge() -> object:
        return broken_rule(goal, attempt, read_only=read_only, outputs={out}, workspace=tmp_path)

    (tmp_path / out).write_text("key,total\nA,1\nB,2\nA,3\n")
    broken = judge()
    assert broken is not None and broken.rule == "duplicate_groups"
    assert "'A' (2 rows)" in broken.analysis
    (tmp_path / out).write_text("key,total\nA,4\nB,2\n")
    assert judge() is None


def test_repeated_keys_are_fine_when_nothing_is_totalled(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_text("day,item\nmon,tea\nmon,milk\n")
    attempt = [step("python_run", "ran", code="...")]
    goal = "Copy the rows of orders.csv for Monday into out.csv."
    assert (
        broken_rule(goal, attempt, read_only=read_only, outputs={"out.csv"}, workspace=tmp_path)
        is None
    )


@pytest.mark.parametrize(
    "goal",
    [
        "Write the totals per region to out.csv.",  # no header stated
        "Write out.csv; the columns are region, amount and share.",  # a list in prose
        "Write out.csv with the columns region,amount; the old file had (region,total).",
    ],
)
def test_no_header_rule_without_one_stated_header(tmp_path: Path, goal: str) -> None:
    (tmp_path / "out.csv").write_text("something,else\n1,2\n")
    attempt = [step("python_run", "ran", code="...")]
    assert (
        broken_rule(goal, attempt, read_only=read_only, outputs={"out.csv"}, workspace=tmp_path)
        is None
    )


def test_an_output_that_nothing_after_the_last_change_shows_is_broken() -> None:
    goal = "Create a ticket for the broken printer"
    failed = [
        step("browser_click", "URL: /new\nPage text:\nTitle is required", element_id=3),
        step("browser_goto", "URL: /\nPage text:\nWelcome", url="/"),
    ]
    broken = broken_rule(goal, failed, read_only=read_only)
    assert broken is not None and broken.rule == "output_not_seen"
    shown = [step("browser_click", "URL: /t/7\nPage text:\nTicket #7 created", element_id=3)]
    assert broken_rule(goal, shown, read_only=read_only) is None


# ---------------------------------------------------------------- end to end


async def test_a_fooled_reflector_is_overruled_and_the_rule_is_named(
    settings, workspace: Path
) -> None:
    (workspace / "old.log").write_text("x")
    llm = ScriptedLLM(
        [
            call("file_list"),
            answer("old.log is gone"),
            verdict(True),  # fooled: nothing was deleted
            call("file_delete", path="old.log"),
            answer("deleted"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(agent, "Delete old.log", on_event=events.append)
    assert result.achieved and result.subtasks[0].attempts == 1
    assert not (workspace / "old.log").exists()
    reflections = [e.data for e in events if e.event == "reflection"]
    assert [r["rule"] for r in reflections] == ["effect_not_done", None]
    assert [r["achieved"] for r in reflections] == [False, True]
    assert "overruled (effect_not_done)" in reflections[0]["evidence"]
    # JSON lines carry it too
    assert '"rule":"effect_not_done"' in next(
        e.model_dump_json() for e in events if e.event == "reflection"
    )


async def test_a_right_success_stands(settings, workspace: Path) -> None:
    llm = ScriptedLLM(
        [
            call("file_write", path="note.txt", content="hello\n"),
            call("file_read", path="note.txt"),
            answer("note.txt has hello"),
            verdict(True),
        ]
    )
    agent = build_agent(
        settings, llm=llm, memory=False, workspace=workspace, registry=file_registry(),
        profile="local",
    )  # fmt: skip
    events: list[Event] = []
    result = await run_task(agent, "Write hello into note.txt", on_event=events.append)
    assert result.achieved and result.subtasks[0].attempts == 0
    assert [e.data["rule"] for e in events if e.event == "reflection"] == [None]


def test_model_steps_are_not_actions() -> None:
    goal = "Click the OK button on the page"
    claim = ModelStep(text="I clicked OK")
    assert broken_rule(goal, [claim], read_only=read_only) is not None


# ---------------------------------------------------------------- target rule
ROSTER = (
    'URL: http://127.0.0.1:9/roster\nInteractive elements:\n[1] button "Decline"\n'
    '[2] button "Accept shift"\n[3] combobox "Site" options: Porto | Madrid | Riga\n'
    '[4] checkbox "Notify my team"\n[5] button "Done"'
)


@pytest.mark.parametrize(
    ("goal", "wrong", "right"),
    [
        (
            "Press 'Accept shift' on the roster page.",
            [step("browser_click", ROSTER, element_id=1)],
            [step("browser_click", ROSTER, element_id=2)],
        ),
        (
            "Pick Madrid as the site, then click Done.",
            [
                step("browser_select", ROSTER, element_id=3, options=["Riga"]),
                step("browser_click", ROSTER, element_id=5),
            ],
            [
                step("browser_select", ROSTER, element_id=3, options=["Madrid"]),
                step("browser_click", ROSTER, element_id=5),
            ],
        ),
        (
            "Tick “Notify my team” and hit Done.",
            [step("browser_click", ROSTER, element_id=5)],
            [
                step("browser_check", ROSTER.replace('team"', 'team" [checked]'), element_id=4),
                step("browser_click", ROSTER, element_id=5),
            ],
        ),
    ],
)  # fmt: skip
def test_a_click_on_another_control_than_the_named_one_is_broken(
    goal: str, wrong: list, right: list
) -> None:
    page = step("browser_goto", ROSTER, url="http://127.0.0.1:9/roster")
    broken = broken_rule(goal, [page, *wrong], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed", broken
    assert "no action was on it" in broken.evidence
    assert broken_rule(goal, [page, *right], read_only=read_only) is None


def test_named_controls_the_page_never_showed_or_told_not_to_touch_are_not_required() -> None:
    page = step("browser_goto", ROSTER, url="http://127.0.0.1:9/roster")
    accept = step("browser_click", ROSTER, element_id=2)
    # 'Confirm' is no control of this page: the rule cannot know what it would be
    assert (
        broken_rule("Press 'Accept shift', then Confirm it.", [page, accept], read_only=read_only)
        is None
    )
    # "do not click Decline": a negated name is no target
    assert (
        broken_rule(
            "Do not click 'Decline'; press 'Accept shift'.", [page, accept], read_only=read_only
        )
        is None
    )
    # Enter presses a form's button when the page answers it, not when nothing happens
    answered = (
        "URL: http://127.0.0.1:9/roster?saved=1\nInteractive elements: none\nPage text:\nSaved."
    )
    typed = step("browser_type", answered, element_id=3, text="x", submit=True)
    assert broken_rule("Type x and press Done.", [page, typed], read_only=read_only) is None
    ignored = step("browser_type", ROSTER, element_id=3, text="x", submit=True)
    broken = broken_rule("Type x and press Done.", [page, ignored], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed" and "'Done'" in broken.evidence


def test_text_the_goal_gives_to_type_must_be_typed_on_the_page() -> None:
    form = (
        'URL: http://127.0.0.1:9/f\nInteractive elements:\n[1] textbox "Code"\n[2] button "Redeem"'
    )
    goal = "Enter the code 'MAPLE-7' in the Code field and press Redeem."
    page = step("browser_goto", form, url="http://127.0.0.1:9/f")
    redeem = step("browser_click", form, element_id=2)
    typo = step("browser_type", form, element_id=1, text="MAPLE")
    broken = broken_rule(goal, [page, typo, redeem], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed" and "'MAPLE-7'" in broken.evidence
    right = step("browser_type", form, element_id=1, text="maple-7")
    assert broken_rule(goal, [page, right, redeem], read_only=read_only) is None
    # a file task that writes a quoted text is not a page's business
    note = step("file_write", "wrote 5 bytes", path="n.txt", content="MAPLE-7")
    assert broken_rule("Write the code 'MAPLE-7' into n.txt.", [note], read_only=read_only) is None


def test_a_row_button_for_another_number_than_the_goals_is_broken() -> None:
    rows = (
        'URL: http://127.0.0.1:9/orders\nInteractive elements:\n[1] button "Refund order 4410"\n'
        '[2] button "Refund order 4412"\n[3] link "Help"'
    )
    goal = "On http://127.0.0.1:9/orders, refund order 4412 with its button."
    page = step("browser_goto", rows, url="http://127.0.0.1:9/orders")
    wrong = step("browser_click", '[acted on [1] button "Refund order 4410"]\nURL: x', element_id=1)
    broken = broken_rule(goal, [page, wrong], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed"
    assert "'Refund order 4410'" in broken.evidence and "'Refund order 4412'" in broken.evidence
    right = step("browser_click", '[acted on [2] button "Refund order 4412"]\nURL: x', element_id=2)
    assert broken_rule(goal, [page, wrong, right], read_only=read_only) is None
    # the port of the URL is no number the goal asks for; a link without a number is no row
    help_ = step("browser_click", '[acted on [3] link "Help"]\nURL: x', element_id=3)
    assert (
        broken_rule(
            "Open http://127.0.0.1:9/orders and click Help.", [page, help_], read_only=read_only
        )
        is None
    )


def test_a_quoted_choice_a_few_words_after_its_verb_and_enter_in_a_list() -> None:
    shop = (
        'URL: http://127.0.0.1:9/shop\nInteractive elements:\n[1] combobox "Size" value="Small" '
        'options: Small | Large\n[2] button "Order"'
    )
    goal = "Pick the shirt size 'Large', then hit Order."
    page = step("browser_goto", shop, url="http://127.0.0.1:9/shop")
    small = step("browser_select", shop, element_id=1, options=["Small"])
    enter = step("browser_press", shop, keys="Enter")  # in a list: sends nothing
    broken = broken_rule(goal, [page, small, enter], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed" and "'Large'" in broken.evidence
    large = step(
        "browser_select", shop.replace('"Small"', '"Large"'), element_id=1, options=["Large"]
    )
    assert broken_rule(goal, [page, large, enter], read_only=read_only) is not None  # no Order
    order = step("browser_click", shop, element_id=2)
    assert broken_rule(goal, [page, large, order], read_only=read_only) is None


def test_options_asked_for_but_not_left_chosen_do_not_count() -> None:
    before = 'URL: http://127.0.0.1:9/s\nInteractive elements:\n[1] combobox "Tier" value="Bronze" options: Bronze | Gold\n[2] button "Apply"'
    goal = "Select 'Gold' as the tier and press Apply."
    page = step("browser_goto", before, url="http://127.0.0.1:9/s")
    both = step("browser_select", before, element_id=1, options=["Bronze", "Gold"])  # stays Bronze
    apply_ = step("browser_click", '[acted on [2] button "Apply"]\nURL: x', element_id=2)
    broken = broken_rule(goal, [page, both, apply_], read_only=read_only)
    assert broken is not None and broken.rule == "target_missed" and "'Gold'" in broken.evidence
    after = before.replace('value="Bronze"', 'value="Gold"')
    gold = step("browser_select", after, element_id=1, options=["Gold"])
    assert broken_rule(goal, [page, gold, apply_], read_only=read_only) is None


def test_a_per_group_table_with_its_header_alone_is_no_result(tmp_path: Path) -> None:
    # the group derived from a date (a week, here), by code that matched nothing
    goal = "Sum the hours of timesheet.csv per ISO week (from `day`) into weekly.csv: header week,hours."
    attempt = [step("python_run", "ran", code="t = pd.read_csv('timesheet.csv') ...")]

    def judge() -> object:
        return broken_rule(
            goal, attempt, read_only=read_only, outputs={"weekly.csv"}, workspace=tmp_path
        )

    (tmp_path / "timesheet.csv").write_text("day,hours\n2026-11-02,3\n2026-11-10,4\n")
    (tmp_path / "weekly.csv").write_text("week,hours\n")
    broken = judge()
    assert broken is not None and broken.rule == "output_not_seen"
    assert "weekly.csv holds its header and no rows, while timesheet.csv has 2" in broken.evidence
    (tmp_path / "weekly.csv").write_text("week,hours\n2026-W45,3.00\n2026-W46,4.00\n")
    assert judge() is None
    (tmp_path / "timesheet.csv").write_text("day,hours\n")  # nothing to group: no row is right
    (tmp_path / "weekly.csv").write_text("week,hours\n")
    assert judge() is None


def test_the_tasks_list_of_apps_asks_for_nothing() -> None:
    """When the goal is the whole task, its app lines ("...; same login", "to upload, use
    WebDAV") are how to reach the apps, not orders (the curve's expense task was failed for
    "the goal asks to login"). Other wordings and apps than the curve's."""
    task = (
        "Count the open purchase orders in `po.csv` and post the count in the #buying room.\n\n"
        "Tools at hand:\n"
        "- Chat: http://127.0.0.1:9 (user `kim`, password `pw`; log in first)\n"
        "- Drive: http://127.0.0.1:10/dav (to upload, use WebDAV; share links expire)\n"
        "* Mail: webmail http://127.0.0.1:11 (same login); SMTP 127.0.0.1:25\n"
    )
    ui, anywhere = effects_asked(task)
    assert "login" not in ui + anywhere and "log in" not in ui + anywhere
    assert "upload" not in anywhere and "post" in ui + anywhere
    # an order in a bullet without an address still asks
    ui, anywhere = effects_asked("Steps:\n- log in to the portal\n- upload report.pdf to the drive")
    assert "upload" in anywhere
