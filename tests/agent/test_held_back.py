"""An action on another numbered row than the goal's, or a click on a control the goal does
not mention while the one it names is shown, is held back before it runs.

The 1.5B model clicks the first of several alike buttons ("Approve invoice 12" when the
goal says 17, "Cancel" when it says "Publish"); the page moves on and the right control
cannot be reached by that attempt. The executor holds such a call back once, naming the
element the goal means; the same call sent again runs. The wordings and the pages here
(refunds of orders, a memo to send) are used nowhere else.
"""

from __future__ import annotations

import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from _agent_helpers import acted, answer, call

from agent.targets import HELD_BACK, wrong_control, wrong_row

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from browser_site import serve

ORDERS = (4410, 4411, 4412)
SEEN = (
    "URL: http://127.0.0.1:9/orders\nTitle: Orders\nInteractive elements:\n"
    + "\n".join(f'[{i}] button "Refund order {n}"' for i, n in enumerate(ORDERS, 1))
    + '\n[4] link "Page 2"\nPage text:\n...'
)


@pytest.mark.parametrize(
    ("goal", "element", "held"),
    [
        ("Refund order 4411.", 1, "[2] 'Refund order 4411'"),
        ("Please refund the customer's order no. 4412 today", 2, "[3] 'Refund order 4412'"),
        ("Refund order 4411.", 2, None),  # the goal's own row
        ("Refund the newest order.", 1, None),  # no number in the goal
        ("Refund order 4411.", 4, None),  # no row of its shape holds 4411
        ("Refund order 9999.", 1, None),  # the goal's row is not shown
        ("Open http://127.0.0.1:9/orders and refund order 4411", 3, "[2]"),  # the port is no row
    ],
)
def test_the_goals_row_is_named_before_the_wrong_one_is_acted_on(
    goal: str, element: int, held: str | None
) -> None:
    said = wrong_row(goal, SEEN, "browser_click", {"element_id": element})
    if held is None:
        assert said is None
    else:
        assert said is not None and said.startswith(HELD_BACK) and held in said
    assert wrong_row(goal, SEEN, "browser_read", {}) is None


class _FormPage(ABC):
    """A one-form page that records what each POST sent (``post``) and says "Done."."""

    title = ""

    @abstractmethod
    def body(self) -> str: ...

    @abstractmethod
    def post(self, form: dict[str, list[str]]) -> None: ...

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            self.post(parse_qs(environ["wsgi.input"].read(size).decode()))
            body = "<p>Done.</p>"
        else:
            body = self.body()
        start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!doctype html><title>{self.title}</title>{body}".encode()]


class Orders(_FormPage):
    """One page of orders, each with a refund button; records the refunds."""

    title = "Orders"

    def __init__(self) -> None:
        self.refunded: list[int] = []

    def body(self) -> str:
        return "<h1>Orders</h1>" + "".join(
            f"<form method=post><input type=hidden name=order value={n}>"
            f"<p>Order {n} <button>Refund order {n}</button></p></form>"
            for n in ORDERS
        )

    def post(self, form: dict[str, list[str]]) -> None:
        self.refunded.append(int(form["order"][0]))


@pytest.fixture
def orders() -> Iterator[tuple[Orders, str]]:
    app = Orders()
    with serve(app) as base:
        yield app, base + "/orders"


def _clicks(url: str, picks: list[int]) -> Any:
    """Opens the page, then clicks the refund button of each order in ``picks`` in turn."""

    def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
        if not seen:
            return call("browser_goto", url=url)
        if len(seen) <= len(picks):
            m = re.search(rf'\[(\d+)\] button "Refund order {picks[len(seen) - 1]}"', seen[0])
            assert m, seen[0]
            return call("browser_click", element_id=int(m.group(1)))
        return answer("refunded")

    return act


async def test_a_click_on_another_row_is_held_back_and_the_right_one_runs(
    settings: Any, workspace: Path, orders: tuple[Orders, str]
) -> None:
    app, url = orders
    goal = f"On {url}, refund order 4411."
    steps = await acted(settings, workspace, goal, _clicks(url, [4410, 4411]))
    assert app.refunded == [4411]
    held = [s for s in steps if (s.get("error") or "").startswith(HELD_BACK)]
    assert len(held) == 1 and not held[0]["executed"] and "Refund order 4411" in held[0]["error"]


async def test_the_same_call_sent_again_runs(
    settings: Any, workspace: Path, orders: tuple[Orders, str]
) -> None:
    app, url = orders
    goal = f"On {url}, refund order 4411."
    steps = await acted(settings, workspace, goal, _clicks(url, [4410, 4410]))
    clicks = [s for s in steps if s["tool"] == "browser_click"]
    # each attempt: held back once, then run when sent again (the model insisted); the
    # evidence rules then judge the attempt missed (the goal's row was shown), so it retries
    assert app.refunded and set(app.refunded) == {4410}
    assert [bool(s.get("error")) for s in clicks] == [True, False] * len(app.refunded)


MEMO = (
    "URL: http://127.0.0.1:9/memo\nTitle: Memo\nInteractive elements:\n"
    '[1] button "Discard"\n[2] button "Send memo"\n[3] link "Help"\n[4] button "More options"\n'
    '[5] checkbox "Copy me in"\n[6] checkbox "Urgent" [checked]\n'
    "Page text:\n..."
)


@pytest.mark.parametrize(
    ("goal", "element", "acted", "held"),
    [
        ("Hit 'Send memo' to finish.", 1, set(), "[2] 'Send memo'"),
        ("Now press Send and stop.", 1, set(), "[2] 'Send memo'"),  # one capitalised word
        ("Hit 'Send memo' to finish.", 3, set(), None),  # a link: another role
        ("Open More options, then tap 'Send memo'.", 4, set(), None),  # the goal mentions it
        ("Hit 'Send memo' to finish.", 1, {"2"}, None),  # the named one was acted on already
        ("Finish the memo and file it.", 1, set(), None),  # the goal names no control
        ("Hit 'Send memo' to finish.", 2, set(), None),  # the named one itself
        ("Hit 'Send memo' to finish.", 5, set(), "the box 'Copy me in'"),  # a box not mentioned
        ("Tick 'Copy me in', then hit 'Send memo'.", 5, set(), None),  # a box it mentions
    ],
)
def test_a_click_on_a_control_the_goal_does_not_mention(
    goal: str, element: int, acted: set[str], held: str | None
) -> None:
    said = wrong_control(goal, MEMO, "browser_click", {"element_id": element}, acted)
    if held is None:
        assert said is None
    else:
        assert said is not None and said.startswith(HELD_BACK) and held in said
    assert (
        wrong_control(goal, MEMO, "browser_type", {"element_id": element, "text": "x"}, acted)
        is None
    )


class Memo(_FormPage):
    """A memo with three buttons; records which one was pressed."""

    title = "Memo"

    def __init__(self) -> None:
        self.pressed: list[str] = []

    def body(self) -> str:
        buttons = ("Discard", "Save draft", "Send memo")
        return (
            "<h1>Memo to the team</h1><form method=post>"
            + "".join(f"<button name=b value='{b}'>{b}</button> " for b in buttons)
            + "</form>"
        )

    def post(self, form: dict[str, list[str]]) -> None:
        self.pressed.append(form["b"][0])


async def test_a_click_on_the_first_button_is_held_back_for_the_named_one(
    settings: Any, workspace: Path
) -> None:
    app = Memo()
    with serve(app) as base:
        url = base + "/memo"
        goal = f"Go to {url} and hit 'Send memo'."

        def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
            if not seen:
                return call("browser_goto", url=url)
            if len(seen) == 1:  # the first button, as the small model does
                first = re.findall(r"\[(\d+)\] button", seen[0])[0]
                return call("browser_click", element_id=int(first))
            if len(seen) == 2:  # told which one the goal names
                named = re.findall(r"Act on \[(\d+)\]", seen[1])[0]
                return call("browser_click", element_id=int(named))
            return answer("sent")

        steps = await acted(settings, workspace, goal, act)
    assert app.pressed == ["Send memo"]
    held = [s for s in steps if (s.get("error") or "").startswith(HELD_BACK)]
    assert len(held) == 1 and "'Discard'" in held[0]["error"]


async def test_a_retrys_first_click_is_checked_against_the_page_the_attempt_before_left(
    settings: Any, workspace: Path
) -> None:
    app = Memo()
    with serve(app) as base:
        url = base + "/memo"
        goal = f"Go to {url} and hit 'Send memo'."
        turns = iter(["goto", "claim", "first", "named", "done"])

        def act(seen: list[str], messages: list[Any], tools: Any) -> Any:
            # the verdict of the first attempt (done) is overruled: nothing was clicked
            turn = next(turns)
            if turn == "goto":
                return call("browser_goto", url=url)
            if turn in ("claim", "done"):
                return answer("sent")
            if turn == "first":  # a retry opens with no observation of its own
                assert not seen
                return call("browser_click", element_id=1)
            named = re.findall(r"Act on \[(\d+)\]", seen[-1])[0]
            return call("browser_click", element_id=int(named))

        steps = await acted(settings, workspace, goal, act)
    assert app.pressed == ["Send memo"]
    assert [s["attempt"] for s in steps if (s.get("error") or "").startswith(HELD_BACK)] == [1]
