"""A value the goal gives a field, never entered or chosen by a browser attempt, is no
success (agent.targets, rule ``target_missed``).

Built on the curve's Trac task (the 1.5B model set the component to 'backend' and was
judged done). The wordings and pages here are others: an order's status, an owner, a
shipping method, a resolution set from code, a login, a negation.
"""

from __future__ import annotations

import pytest

from agent.evidence import broken_rule
from agent.state import ToolStep
from agent.targets import missed_target
from tools import default_registry

REGISTRY = default_registry()

ORDER = (
    "URL: http://127.0.0.1:9/orders/7\nTitle: Order 7\nInteractive elements:\n"
    '[1] combobox "Status" value="pending" options: pending | shipped | cancelled\n'
    '[2] textbox "Owner"\n[3] button "Save"\nPage text:\nOrder 7'
)
SAVED = "URL: http://127.0.0.1:9/orders/7?saved\nTitle: Order 7\nInteractive elements: none\nPage text:\nSaved."


def step(tool: str, output: str = ORDER, **arguments: object) -> ToolStep:
    return ToolStep(call_id=tool, tool=tool, arguments=arguments, output=output)


def saved() -> ToolStep:
    return step("browser_click", f'[acted on [3] button "Save"]\n{SAVED}', element_id=3)


@pytest.mark.parametrize(
    "goal",
    [
        "Set the status of order 7 to 'shipped' at http://127.0.0.1:9/orders/7.",
        "Order 7's status is wrong: it should be `shipped`. Fix it.",
        "Please mark order 7 as \u201cshipped\u201d.",
    ],
)
def test_a_value_chosen_wrong_is_missed_and_the_right_one_passes(goal: str) -> None:
    wrong = [step("browser_goto", url="http://127.0.0.1:9/orders/7"),
             step("browser_select", element_id=1, options=["cancelled"]), saved()]  # fmt: skip
    missed = missed_target(goal, wrong)
    assert missed is not None and "'shipped'" in missed[0]
    right = [wrong[0], step("browser_select", element_id=1, options=["shipped"]), saved()]
    assert missed_target(goal, right) is None
    typed = [wrong[0], step("browser_type", element_id=1, text="Shipped"), saved()]
    assert missed_target(goal, typed) is None  # typed into the select box: chosen
    failed = [wrong[0], step("browser_select", element_id=1, options=["shipped"]), saved()]
    failed[1].error = "no option"
    assert missed_target(goal, failed) is not None  # an action that failed set nothing


def test_the_value_may_come_from_code_a_skill_or_a_field_that_held_it() -> None:
    goal = "Resolve ticket 4 as `wontfix` in the tracker (http://127.0.0.1:9/t/4)."
    opened = step("browser_goto", url="http://127.0.0.1:9/t/4")
    code = step("python_run", "ok", code="requests.post(url, data={'resolution': 'wontfix'})")
    assert missed_target(goal, [opened, code]) is None
    skill = step("skill_resolve_ticket", "done", ticket="4", resolution="wontfix")
    assert missed_target(goal, [opened, skill]) is None
    held = ORDER.replace('[2] textbox "Owner"', '[2] textbox "Resolution" value="wontfix"')
    assert missed_target(goal, [step("browser_goto", held), saved()]) is None
    # only looking (the address holds the value) sets nothing
    looked = step("browser_goto", url="http://127.0.0.1:9/query?resolution=wontfix")
    assert missed_target(goal, [looked, saved()]) is not None


@pytest.mark.parametrize(
    "goal",
    [
        "Sign in as 'sam' and save order 7.",  # a login, not a field's value
        "Staff are known as 'the crew'. Save order 7.",  # no change in that sentence
        "Mark order 7 as `<status>`, then save it.",  # a placeholder, no value
        "Update the page listing closed orders (each as `#N` with its date).",  # a form
        "Save order 7, and upload the receipt as `Shop/receipts/7.pdf`.",  # a file: file rules
        "List the closed orders as `orders.csv`, then save order 7.",  # 'closed' changes nothing
        "Save order 7, but do not set it to 'cancelled'.",  # what not to set
        "Open `http://127.0.0.1:9/orders/7` and press Save.",  # an address
        "Save order 7.\nApps:\n- Shop (orders, set to 'eu'): http://127.0.0.1:9",  # the app list
    ],
)
def test_no_value_rule_where_the_goal_gives_none_to_set(goal: str) -> None:
    assert (
        missed_target(goal, [step("browser_goto", url="http://127.0.0.1:9/orders/7"), saved()])
        is None
    )


def test_an_attempt_without_the_browser_is_left_to_the_other_rules() -> None:
    goal = "Write the owner to owner.txt as 'dana'."
    assert missed_target(goal, [step("file_write", "written", path="owner.txt", text="x")]) is None


def test_the_verdict_is_overruled_with_the_value() -> None:
    goal = "In the shop at http://127.0.0.1:9, change order 7's status to `shipped`."
    attempt = [step("browser_goto", url="http://127.0.0.1:9/orders/7"),
               step("browser_type", element_id=2, text="Order 7"), saved()]  # fmt: skip
    rule = broken_rule(goal, attempt, read_only=lambda name: REGISTRY.get(name).read_only)
    assert rule is not None and rule.rule == "target_missed" and "'shipped'" in rule.analysis


def _search_page(box: str) -> str:
    return (
        "URL: http://127.0.0.1:9/orders/7\nTitle: Order 7\nInteractive elements:\n"
        f'[1] {box}\n[2] button "Go"\n[3] textbox "Tracking note"\n[4] button "Save"\n'
        "Page text:\nOrder 7"
    )


@pytest.mark.parametrize(
    "box",
    [
        'searchbox "Orders"',
        'textbox "Search:"',
        'textbox "Quick search"',
        'combobox "Find an order"',
    ],
)
def test_a_value_typed_into_a_search_box_sets_no_field(box: str) -> None:
    # the 1.5B model typed the component it was to set into Trac's "Search:" box, searched and
    # was judged done; here another app's page, other search boxes, another value
    goal = "Change order 7's carrier to `parcelforce` in the shop (http://127.0.0.1:9)."
    page = _search_page(box)
    typed = step("browser_type", f"[acted on [1] {box}]\n" + page.replace(
        f"[1] {box}", f'[1] {box} value="parcelforce"'), element_id=1, text="parcelforce")  # fmt: skip
    go = step("browser_click", f'[acted on [2] button "Go"]\n{page}', element_id=2)
    missed = missed_target(
        goal, [step("browser_goto", page, url="http://127.0.0.1:9/orders/7"), typed, go]
    )
    assert missed is not None and "'parcelforce'" in missed[0]
    # the same value typed into a field of the form is set
    field = step("browser_type", '[acted on [3] textbox "Tracking note"]\n' + page,
                 element_id=3, text="parcelforce")  # fmt: skip
    assert missed_target(goal, [step("browser_goto", page), field, saved()]) is None


def test_a_field_whose_name_only_contains_search_is_a_field() -> None:
    goal = "Set the team's focus to 'pricing' at http://127.0.0.1:9/team."
    box = 'textbox "Research area"'
    typed = step(
        "browser_type", f"[acted on [1] {box}]\n{_search_page(box)}", element_id=1, text="pricing"
    )
    assert missed_target(goal, [step("browser_goto", _search_page(box)), typed, saved()]) is None


def test_a_form_filled_by_labels_counts_its_values_and_its_button() -> None:
    # browser_fill names its values in its arguments and the button it pressed in its first line
    goal = "Set order 7's carrier to `parcelforce` and press 'Save' (http://127.0.0.1:9/orders/7)."
    page = step("browser_goto", url="http://127.0.0.1:9/orders/7")
    filled = step(
        "browser_fill", f'[acted on [3] button "Save"]\n[filled: \'Carrier\' = \'parcelforce\']\n{SAVED}',
        fields={"Carrier": "parcelforce"}, submit="Save",
    )  # fmt: skip
    assert missed_target(goal, [page, filled]) is None
    rule = broken_rule(goal, [page, filled], read_only=lambda n: REGISTRY.get(n).read_only)
    assert rule is None
    # filled and not saved: the button the goal names was shown and not pressed
    unsaved = step("browser_fill", f"[filled: 'Carrier' = 'parcelforce']\n{ORDER}",
                   fields={"Carrier": "parcelforce"})  # fmt: skip
    missed = missed_target(goal, [page, unsaved])
    assert missed is not None and "'Save'" in missed[0]
    # another value filled: the goal's value was never set
    other = step("browser_fill", f'[acted on [3] button "Save"]\n{SAVED}',
                 fields={"Carrier": "dhl"}, submit="Save")  # fmt: skip
    missed = missed_target(goal, [page, other])
    assert missed is not None and "'parcelforce'" in missed[0]
