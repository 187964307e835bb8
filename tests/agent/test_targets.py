"""target_missed on boxes: the state a box was left in, not only that it was clicked.

A click toggles a box, so a click on a box that is ticked already unticks it (the 1.5B
model clicked Red again in a retry, sent the form with Red unticked and was judged done).
The wordings and pages here are used nowhere else.
"""

from __future__ import annotations

import pytest

from agent.evidence import broken_rule
from agent.state import ToolStep
from agent.targets import missed_target


def page(*boxes: tuple[str, bool], role: str = "checkbox", after: str = "") -> str:
    lines = [
        f'[{i}] {role} "{name}"' + (" [checked]" if on else "")
        for i, (name, on) in enumerate(boxes, 1)
    ]
    n = len(boxes) + 1
    return (
        "URL: http://127.0.0.1:9/prefs\nTitle: Preferences\nInteractive elements:\n"
        + "\n".join(lines)
        + f'\n[{n}] button "Apply"\nPage text:\n{after}'
    )


def step(tool: str, output: str, **arguments: object) -> ToolStep:
    return ToolStep(call_id=tool, tool=tool, arguments=arguments, output=output)


def click(i: int, name: str, output: str, role: str = "checkbox") -> ToolStep:
    return step("browser_click", f'[acted on [{i}] {role} "{name}"]\n{output}', element_id=i)


DONE = "URL: http://127.0.0.1:9/prefs?ok\nTitle: Preferences\nInteractive elements: none\nPage text:\nApplied."


def apply_(n: int) -> ToolStep:
    return step("browser_click", f'[acted on [{n}] button "Apply"]\n{DONE}', element_id=n)


def test_a_box_clicked_again_and_sent_unticked_is_missed() -> None:
    goal = "Enable 'Weekly digest' and 'Dark mode', then click Apply."
    start = step("browser_goto", page(("Weekly digest", True), ("Dark mode", False), role="switch"))
    # the digest was on already: the click turned it off
    off = click(
        1,
        "Weekly digest",
        page(("Weekly digest", False), ("Dark mode", False), role="switch"),
        "switch",
    )
    dark = click(
        2, "Dark mode", page(("Weekly digest", False), ("Dark mode", True), role="switch"), "switch"
    )
    missed = missed_target(goal, [start, off, dark, apply_(3)])
    assert missed is not None and "'Weekly digest'" in missed[0] and "unticked" in missed[0]
    assert "toggles" in missed[1]
    both_on = page(("Weekly digest", True), ("Dark mode", True), role="switch")
    assert missed_target(goal, [start, click(2, "Dark mode", both_on, "switch"), apply_(3)]) is None


def test_a_box_the_goal_says_to_leave_or_make_unticked() -> None:
    mon_fri = page(("Monday", True), ("Wednesday", True), ("Friday", True))
    goal = "Mark the days Monday and Friday (but not Wednesday) and press Apply."
    start = step("browser_goto", mon_fri)
    broken = broken_rule(goal, [start, apply_(4)], read_only=lambda _: False)
    assert broken is not None and broken.rule == "target_missed"
    assert "'Wednesday' unticked" in broken.evidence
    wed_off = click(2, "Wednesday", page(("Monday", True), ("Wednesday", False), ("Friday", True)))
    assert missed_target(goal, [start, wed_off, apply_(4)]) is None
    share = page(("Share usage data", True), ("Remember me", True))
    untick = "Untick “Share usage data” and hit Apply."
    missed = missed_target(untick, [step("browser_goto", share), apply_(3)])
    assert missed is not None and "'Share usage data' unticked" in missed[0]
    cleared = step(
        "browser_check",
        page(("Share usage data", False), ("Remember me", True)),
        element_id=1,
        checked=False,
    )
    assert missed_target(untick, [step("browser_goto", share), cleared, apply_(3)]) is None


@pytest.mark.parametrize(
    "goal",
    [
        "Press Apply on the preferences page.",  # no box named to set
        "Tick 'Newsletter', then press Apply.",  # no such box on the page
    ],
)
def test_no_rule_for_boxes_the_goal_does_not_set(goal: str) -> None:
    start = step("browser_goto", page(("Weekly digest", False)))
    assert missed_target(goal, [start, apply_(2)]) is None


def test_the_state_when_sent_counts_not_a_fresh_form_after_it_nor_one_before_a_retick() -> None:
    goal = "Choose the Beta features box and apply the change."
    ticked = click(1, "Beta features", page(("Beta features", True)))
    fresh = step(  # the page answers with an empty form again
        "browser_click",
        '[acted on [2] button "Apply"]\n' + page(("Beta features", False), after="Saved."),
        element_id=2,
    )
    start = step("browser_goto", page(("Beta features", False)))
    assert missed_target(goal, [start, ticked, fresh]) is None
    # sent unticked, then ticked again and not sent: the last state counts
    assert missed_target(goal, [start, fresh, ticked]) is None
    # ticked, sent, then unticked by a stray click and left so
    stray = click(1, "Beta features", page(("Beta features", False)))
    missed = missed_target(goal, [start, ticked, fresh, stray])
    assert missed is not None and "'Beta features'" in missed[0]


def voucher(value: str | None, after: str = "") -> str:
    field = '[1] textbox "Voucher code"' + (f' value="{value}"' if value is not None else "")
    return (
        "URL: http://127.0.0.1:9/checkout\nTitle: Checkout\nInteractive elements:\n"
        f'{field}\n[2] button "Redeem"\nPage text:\n{after}'
    )


REDEEMED = "URL: http://127.0.0.1:9/checkout?v=1\nTitle: Checkout\nInteractive elements: none\nPage text:\nVoucher redeemed."
VOUCHER_GOAL = "Put the code 'QX-Lantern 9' into the Voucher code field and hit Redeem."


def test_text_a_retry_finds_in_the_field_counts_as_entered() -> None:
    """The attempt before typed the code; this retry only pressed the button. The field
    held the text when the form was sent, so nothing the goal gives is missing."""
    retry = [
        step("browser_read", voucher("QX-Lantern 9")),
        step("browser_click", f'[acted on [2] button "Redeem"]\n{REDEEMED}', element_id=2),
    ]
    assert missed_target(VOUCHER_GOAL, retry) is None


@pytest.mark.parametrize("held", [None, "", "QX-Lant"])
def test_text_neither_typed_nor_in_a_field_is_missed(held: str | None) -> None:
    attempt = [
        step("browser_read", voucher(held)),
        step("browser_click", f'[acted on [2] button "Redeem"]\n{REDEEMED}', element_id=2),
    ]
    missed = missed_target(VOUCHER_GOAL, attempt)
    assert missed is not None and "'QX-Lantern 9'" in missed[0]


def test_text_shown_only_after_the_last_action_does_not_count() -> None:
    """A value the page shows after everything the attempt did was not there when it
    acted (nothing was sent with it)."""
    attempt = [
        step("browser_read", voucher(None)),
        step(
            "browser_click",
            f'[acted on [2] button "Redeem"]\n{voucher("QX-Lantern 9")}',
            element_id=2,
        ),
    ]
    assert missed_target(VOUCHER_GOAL, attempt) is not None


def test_a_box_the_goal_does_not_mention_ticked_by_the_run_is_missed() -> None:
    # an earlier attempt ticked 'Subscribe to the digest'; the judged one only pressed Register
    goal = "Tick 'Accept the policy' and click Apply."
    first = page(("Accept the policy", False), ("Subscribe to the digest", False))
    both = page(("Accept the policy", True), ("Subscribe to the digest", True))
    earlier = [
        step("browser_goto", first, url="u"),
        click(
            2,
            "Subscribe to the digest",
            page(("Accept the policy", False), ("Subscribe to the digest", True)),
        ),
    ]
    judged = [click(1, "Accept the policy", both), apply_(3)]
    missed = missed_target(goal, judged, earlier + judged)
    assert missed is not None and "'Subscribe to the digest'" in missed[0]
    assert "does not mention" in missed[0] and "untick it" in missed[1]
    # the page showed it ticked from the start (a default): not the run's doing
    assert missed_target(goal, judged, judged) is None
    # and with it unticked when sent, nothing is missed
    clean = page(("Accept the policy", True), ("Subscribe to the digest", False))
    fixed = [click(2, "Subscribe to the digest", clean), apply_(3)]
    assert missed_target(goal, fixed, earlier + judged + fixed) is None
    # the form shown only before the attempt, which pressed the button alone (the probe's
    # retry): the run's states count
    alone = [apply_(3)]
    assert missed_target(goal, alone, [*earlier, click(1, "Accept the policy", both), *alone])


def test_a_retry_that_only_presses_the_button_is_judged_on_the_boxes_it_sent() -> None:
    # the boxes were shown only to the attempt before; the judged one pressed Apply alone
    goal = "Switch on Wi-Fi and Bluetooth, then tap Apply."
    first = page(("Wi-Fi", False), ("Bluetooth", False), role="switch")
    earlier = [step("browser_goto", first, url="u")]
    judged = [apply_(3)]
    missed = missed_target(goal, judged, earlier + judged)
    assert missed is not None and "'Wi-Fi' ticked" in missed[0]
    on = page(("Wi-Fi", True), ("Bluetooth", True), role="switch")
    set_before = [step("browser_goto", on, url="u")]
    assert missed_target(goal, judged, set_before + judged) is None
