"""The ten probe pages of issue 16 on a real Chromium: their own rewards, and the agent loop.

A fooled reflector on a page that needs a click is overruled, so ``run`` never reports
success while the page's reward says the task failed; a model that does click passes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "evals" / "probes"))
from pages import PAGES, Rewards, serve, task_text

from tools import ToolContext, ToolResult, ToolSettings, default_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")
REG = default_registry(enabled=("browser",))


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Rewards, str]]:
    rewards = Rewards()
    with serve(rewards) as base:
        yield rewards, base


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bctx(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolContext]:
    settings = ToolSettings(allowed_hosts=["127.0.0.1"], browser_timeout_s=5)
    async with ToolContext(tmp_path_factory.mktemp("ws"), settings) as ctx:
        yield ctx


def el(res: ToolResult, name: str) -> int:
    for e in res.data["elements"]:
        if name.lower() in (e.get("name") or "").lower():
            return int(e["id"])
    raise AssertionError(f"no {name!r} in {res.output}")


async def do(ctx: ToolContext, tool: str, **args: Any) -> ToolResult:
    res = await REG.call(tool, args, ctx)
    assert res.error is None, res.error
    return res


# The right moves for each page, by element names (what a model should do).
async def solve(ctx: ToolContext, name: str, res: ToolResult) -> None:
    if name == "publish":
        await do(ctx, "browser_click", element_id=el(res, "Publish"))
    elif name == "invoice":
        await do(ctx, "browser_click", element_id=el(res, "Approve invoice 17"))
    elif name == "word":
        await do(ctx, "browser_type", element_id=el(res, "Word"), text="harbor")
        await do(ctx, "browser_click", element_id=el(res, "Submit"))
    elif name == "comment":
        await do(ctx, "browser_type", element_id=el(res, "Comment"), text="ship it")
        await do(ctx, "browser_click", element_id=el(res, "Send"))
    elif name == "colours":
        for box in ("Red", "Green"):
            await do(ctx, "browser_check", element_id=el(res, box))
        await do(ctx, "browser_click", element_id=el(res, "Save"))
    elif name == "terms":
        await do(ctx, "browser_check", element_id=el(res, "I agree"))
        await do(ctx, "browser_click", element_id=el(res, "Continue"))
    elif name in ("city", "shipping"):
        label, choice, button = (
            ("City", "Lisbon", "Confirm") if name == "city" else ("Shipping", "Express", "Apply")
        )
        await do(ctx, "browser_select", element_id=el(res, label), options=[choice])
        await do(ctx, "browser_click", element_id=el(res, button))
    elif name == "plan":
        await do(ctx, "browser_type", element_id=el(res, "Last name"), text="Rivera")
        nxt = await do(ctx, "browser_click", element_id=el(res, "Next"))
        await do(ctx, "browser_select", element_id=el(nxt, "Plan"), options=["Pro"])
        await do(ctx, "browser_click", element_id=el(nxt, "Finish"))
    elif name == "newsletter":
        await do(ctx, "browser_type", element_id=el(res, "Email"), text="kim@acme.test")
        nxt = await do(ctx, "browser_click", element_id=el(res, "Next"))
        await do(ctx, "browser_check", element_id=el(nxt, "Weekly digest"))
        await do(ctx, "browser_click", element_id=el(nxt, "Submit"))


# one page in the default run, all ten under -m slow (each costs a few seconds of Chromium)
@pytest.mark.parametrize(
    "name",
    [p.name if p.name == "word" else pytest.param(p.name, marks=pytest.mark.slow) for p in PAGES],
)
async def test_each_page_rewards_the_right_moves_only(
    bctx: ToolContext, site: tuple[Rewards, str], name: str
) -> None:
    rewards, base = site
    rewards.reset()
    res = await do(bctx, "browser_goto", url=f"{base}/{name}")
    assert res.data["elements"], f"controls not observed on {name}: {res.output}"
    # a wrong final press first: the page's reward says failure
    last = res.data["elements"][-1]
    if name not in ("plan", "newsletter", "publish", "invoice"):
        await do(bctx, "browser_click", element_id=int(last["id"]))
        assert rewards.reward(name) == 0
        res = await do(bctx, "browser_goto", url=f"{base}/{name}")
    await solve(bctx, name, res)
    assert rewards.reward(name) == 1


def _page_model(click: bool) -> Any:
    """A model that opens the page, then clicks Publish (or only claims it), and a reflector
    that always says achieved (fooled)."""
    from agent.llm import FunctionLLM
    from agent.models import Distillation, Plan, Reflection

    def reply(messages: Any, tools: Any, output: Any) -> Any:
        if output is Reflection:
            return {"achieved": True, "evidence": "the page was opened", "memory": []}
        if output is Plan:
            return {"subtasks": [{"goal": messages[-1].content[-200:]}]}
        if output is Distillation:
            return {"lessons": []}
        attempt = messages[2:]  # after the system and task prompts
        tools_seen = [m for m in attempt if m.role == "tool"]
        if not tools_seen:
            url = re.search(r"http://127\.0\.0\.1:\d+/publish", messages[1].content)
            assert url is not None
            return {"tool": "browser_goto", "arguments": {"url": url.group(0)}}
        publish = re.search(r'\[(\d+)\] button "Publish"', tools_seen[-1].content)
        if click and publish and len(tools_seen) == 1:
            return {"tool": "browser_click", "arguments": {"element_id": int(publish.group(1))}}
        return {"final_answer": "Published."}

    return FunctionLLM(reply, name="page-script")


@pytest.mark.parametrize("click", [False, True])
async def test_run_never_succeeds_when_the_page_says_it_failed(
    site: tuple[Rewards, str], tmp_path: Path, click: bool
) -> None:
    from agent.build import build_agent
    from agent.config import Settings
    from agent.runner import Event, run_task

    rewards, base = site
    rewards.reset()
    settings = Settings(
        runs_dir=tmp_path / "runs",
        memory={"path": tmp_path / "memory"},
        model="scripted",
        profiles={"scripted": {"model": "scripted", "api_key_env": None}},
        tools={"allowed_hosts": ["127.0.0.1"]},
    )
    events: list[Event] = []
    async with build_agent(
        settings, llm=_page_model(click), memory=False, workspace=tmp_path / "ws",
        registry=default_registry(enabled=("browser",)), profile="local",
    ) as agent:  # fmt: skip
        result = await run_task(agent, task_text(PAGES[0], base), on_event=events.append)
    assert result.achieved == bool(rewards.reward("publish")) == click
    rules = {e.data["rule"] for e in events if e.event == "reflection"}
    assert rules == ({None} if click else {"effect_not_done"})
