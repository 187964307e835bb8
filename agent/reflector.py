"""Reflect: an independent check of each subtask attempt, then credit and learning.

The verdict rests on the observations, never on the executor's claim; the reflector may
ask for one read-only tool call to settle a doubt. The reflector judges; the learner
(agent/learn.py) writes: the model's proposals through the memory write gate during the
task (so a later subtask can retrieve them), and what code induces by itself (a skill
from a verified attempt, tips from an error and its fix).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent import prompts
from agent.context import RunContext
from agent.errors import ContextOverflow, StructuredOutputError
from agent.evidence import FILE, BrokenRule, broken_rule, outputs_of
from agent.learn import learn_from_attempt, remember, source_trust
from agent.limits import exceeded
from agent.llm.base import Message, Usage
from agent.models import Reflection
from agent.progress import LOOP_END
from agent.recall import credited_ids
from agent.state import (
    AgentState,
    Record,
    ReflectionStep,
    ToolStep,
    attempt_records,
    current_subtask,
)
from agent.totals import check_totals
from tools.registry import ToolRegistry

MAX_REPLANS = 1
MAX_TOKENS = 700
OBSERVATION_CHARS = 800


def render_observations(records: list[Record], per_step: int = OBSERVATION_CHARS) -> str:
    """The evidence of an attempt: each action with (the start of) what it returned."""
    lines = []
    for r in records:
        if isinstance(r, ToolStep):
            args = json.dumps(r.arguments, ensure_ascii=False)
            obs = r.observation()
            if len(obs) > per_step:
                obs = obs[:per_step] + f" [... {len(obs) - per_step} more characters]"
            lines.append(f"- {r.tool}({args[:300]}) ->\n{obs}")
        elif r.kind == "note" and r.purpose == "limit":
            lines.append(f"- {r.text}")
    return "\n".join(lines) or "(no tool was used)"


def last_claim(records: list[Record]) -> str:
    """The executor's final text in an attempt."""
    for r in reversed(records):
        if r.kind == "model" and r.text.strip():
            return r.text.strip()
    return "(none)"


def file_evidence(done_when: str, workspace: Path | None, limit: int = 600) -> str:
    """The current content of the workspace files the evidence names (read by the framework)."""
    if workspace is None:
        return ""
    parts = []
    for m in dict.fromkeys(x.group(1) for x in _FILE.finditer(done_when or "")):
        path = (workspace / m).resolve()
        if path.is_relative_to(workspace.resolve()) and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            more = f"\n[... {len(text) - limit} more characters]" if len(text) > limit else ""
            parts.append(f"- content of {m} now:\n{text[:limit]}{more}")
    return "\n".join(parts)


def reflector_messages(
    state: AgentState,
    records: list[Record],
    workspace: Path | None = None,
    per_step: int = OBSERVATION_CHARS,
) -> list[Message]:
    """The reflector's prompt for the current attempt (snapshot-tested)."""
    sub = current_subtask(state)
    assert sub is not None
    seen = render_observations(records, per_step)
    # files named by the goal too: a task done as one subtask has a generic done_when
    files = file_evidence(f"{sub.done_when}\n{sub.goal}", workspace)
    return prompts.render(
        "reflector",
        task=state["task"],
        goal=sub.goal,
        done_when=sub.done_when or "(see the goal)",
        attempt=str(sub.attempts + 1),
        observations=f"{seen}\n{files}" if files else seen,
        claim=last_claim(records)[:1000],
    )


async def judge(
    state: AgentState, ctx: RunContext, records: list[Record]
) -> tuple[Reflection, Usage]:
    """Ask the reflector for a verdict, running at most one read-only check it asks for."""
    usage = Usage()
    workspace = getattr(ctx.tools, "workspace", None)
    messages = reflector_messages(state, records, workspace)
    try:
        try:
            reply = await ctx.llm.complete(messages, output=Reflection, max_tokens=MAX_TOKENS)
        except ContextOverflow:  # many long observations: show less of each
            messages = reflector_messages(state, records, workspace, OBSERVATION_CHARS // 4)
            reply = await ctx.llm.complete(messages, output=Reflection, max_tokens=MAX_TOKENS)
        usage += reply.usage
        verdict = reply.parsed or Reflection(
            achieved=False, analysis="the reflector gave no verdict"
        )
        check = verdict.check
        if check and check.tool in ctx.registry and ctx.registry.get(check.tool).read_only:
            res = await ctx.registry.call(check.tool, check.arguments, ctx.tools)
            messages += [
                Message.assistant(reply.text or verdict.model_dump_json()),
                Message.user(
                    f"Result of {check.tool}: {res.for_model()[:2000]}\nNow give the final verdict, with check null."
                ),
            ]
            reply = await ctx.llm.complete(messages, output=Reflection, max_tokens=MAX_TOKENS)
            usage += reply.usage
            verdict = reply.parsed or verdict
    except StructuredOutputError as exc:
        verdict = Reflection(
            achieved=False, analysis=f"the check could not be made ({exc.last_error[:200]})"
        )
    return verdict, usage


_FILE = FILE


def guard(
    verdict: Reflection,
    done_when: str,
    workspace: Path | None,
    *,
    goal: str = "",
    attempt: list[Record] | None = None,
    outputs: set[str] | None = None,
    registry: ToolRegistry | None = None,
    task: str = "",
    history: list[Record] | None = None,
) -> tuple[Reflection, BrokenRule | None, str]:
    """Overrule a verdict of success that breaks an evidence rule (small models are fooled),
    and a verdict of failure on an attempt whose output code verified (agent/totals.py).
    Returns the verdict, the rule broken and what code verified, for the trajectory."""

    def read_only(name: str) -> bool:
        return registry is not None and name in registry and registry.get(name).read_only

    outputs = outputs or set()
    records = attempt or []
    totals = check_totals(task or goal, workspace, outputs)
    if (
        totals is not None
        and registry is not None
        and totals.output not in outputs_of(records, registry)
    ):
        totals = None  # judged only on the attempt that wrote the table

    def rule() -> BrokenRule | None:
        return broken_rule(
            goal,
            records,
            read_only=read_only,
            done_when=done_when,
            outputs=outputs,
            workspace=workspace,
            history=history,
            task=task,
        )

    broken = rule() if verdict.achieved or (totals is not None and totals.right) else None
    if totals is not None and totals.right and (broken is None or broken.rule != "input_unused"):
        # the task's table recomputed from its input by code: stronger evidence than the
        # model's verdict and than the rules over a subtask's wording (a planner's done_when
        # that names a helper script never written, say); only a table typed without
        # reading the input is not taken (a skill learned from it would type numbers)
        if verdict.achieved and broken is None:
            return verdict, None, ""  # nothing to overrule
        return (
            verdict.model_copy(
                update={
                    "achieved": True,
                    "evidence": f"verified by code: {totals.detail}",
                    "analysis": "",
                    # a model that judged a failure wrote for a failure that was none
                    "memory": verdict.memory if verdict.achieved else [],
                }
            ),
            None,
            totals.detail,
        )
    if not verdict.achieved:
        return verdict, None, ""
    if broken is None and totals is not None and not totals.right:
        broken = BrokenRule(
            rule="wrong_totals",
            evidence=totals.detail,
            analysis=(
                f"{totals.detail}. Compute the totals with a tool that reads {totals.source} "
                f"and write {totals.output} again."
            ),
        )
    if broken is None:
        return verdict, None, ""
    return (
        verdict.model_copy(
            update={
                "achieved": False,
                "evidence": f"overruled ({broken.rule}): {broken.evidence}",
                "analysis": broken.analysis,
                "memory": [m for m in verdict.memory if m.level != "procedural"],
            }
        ),
        broken,
        "",
    )


async def reflect(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: judge the attempt, learn from it, and decide between next, retry and replan."""
    ctx = runtime.context
    sub = current_subtask(state)
    assert sub is not None
    records = attempt_records(state, sub.id, sub.attempts)
    stop = exceeded(state, ctx)  # acting is over: judge and learn, but no retry
    halt = exceeded(state, ctx, learning=True)  # nothing left even for learning
    looped = next(
        (r.text for r in records if r.kind == "note" and r.text.startswith(LOOP_END)), None
    )
    if halt or (stop and not records):
        verdict, usage = Reflection(achieved=False, analysis=f"stopped: {halt or stop}"), Usage()
        broken, verified, said = None, "", None
    elif looped:  # ended for making no progress: failed, whatever a model would say
        verdict, usage = (
            Reflection(
                achieved=False,
                evidence=looped,
                analysis="The attempt repeated the same read without progress. Act on what the "
                "observation shows (click, type, select, write) instead of reading it again.",
            ),
            Usage(),
        )
        broken, verified, said = (
            BrokenRule(rule="no_progress", evidence=looped, analysis=""),
            "",
            None,
        )
    else:
        verdict, usage = await judge(state, ctx, records)
        said = verdict.achieved
        verdict, broken, verified = guard(
            verdict,
            sub.done_when,
            getattr(ctx.tools, "workspace", None),
            goal=sub.goal,
            attempt=records,
            outputs=outputs_of(state.get("trajectory", []), ctx.registry),
            registry=ctx.registry,
            task=state["task"],
            history=state.get("trajectory", []),
        )
    written: list[str] = []
    learning = ""
    if ctx.memory is not None and state.get("learn", True):
        ids = credited_ids(state)
        if ids:
            ctx.memory.record_outcome(
                ids, success=verdict.achieved, episode_id=state.get("episode_id")
            )
        trust = source_trust(records, ctx)
        written = remember(
            state, ctx, verdict.memory, achieved=verdict.achieved, trust=trust, records=records
        )
        learned, notes = await learn_from_attempt(
            state,
            ctx,
            records,
            achieved=verdict.achieved,
            start=ctx.starts.pop((sub.id, sub.attempts), None),
        )
        written += learned
        learning = "; ".join(notes)
    replan = False
    if verdict.achieved:
        new = sub.model_copy(update={"status": "done", "result": last_claim(records)})
    elif not stop and sub.attempts + 1 < ctx.settings.limits.max_attempts_per_subtask:
        new = sub.model_copy(
            update={"status": "pending", "attempts": sub.attempts + 1, "analysis": verdict.analysis}
        )
    else:
        replan = not stop and state.get("replans", 0) < MAX_REPLANS
        new = sub.model_copy(update={"status": "failed", "analysis": verdict.analysis})
    record = ReflectionStep(
        subtask=sub.id,
        attempt=sub.attempts,
        achieved=verdict.achieved,
        evidence=verdict.evidence,
        analysis=verdict.analysis,
        written=written,
        rule=broken.rule if broken else None,
        verified=verified,
        model_achieved=said,
        learned=learning,
    )
    return {
        "plan": [new if s.index == sub.index else s for s in state["plan"]],
        "current": sub.index + 1 if verdict.achieved else sub.index,
        "trajectory": [record],
        "usage": usage,
        "items_written": written,
        "replan": replan,
        "elapsed_s": ctx.elapsed(),
        **({"stop_reason": stop} if stop else {}),
    }
