"""Execute and act: a ReAct loop per subtask.

``execute`` asks the model for the next step (native tool calls or the JSON-action
protocol; the client hides the difference); ``act`` runs the requested tools through
the registry. Every action goes through the :class:`~agent.journal.ActionJournal`, so a
resumed run never runs a recorded action twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent import prompts
from agent.apps import app_as_module
from agent.context import RunContext
from agent.errors import ContextOverflow, StructuredOutputError
from agent.evidence import outputs_of
from agent.folded import unfold_first
from agent.form_done import form_done
from agent.inputs import fetch_inputs, fetched_note, header_names, input_files, input_shapes
from agent.learn import files_in, record_use, run_through, skill_of, snapshot
from agent.limits import exceeded
from agent.llm.base import Message, ToolCall, ToolSpec
from agent.mailbox import listed_inbox, mail_tools_note
from agent.page_notes import page_notes
from agent.progress import loop_note
from agent.recall import (
    credited_ids,
    recall_for_subtask,
    recall_skills,
    render_experience,
    skill_specs,
    tips_by_tool,
)
from agent.skillbind import skill_note, skill_to_call
from agent.skills import SKILL_PREFIX
from agent.state import (
    AgentState,
    ContextItem,
    ModelStep,
    NoteStep,
    Record,
    SubtaskState,
    ToolStep,
    attempt_records,
    current_subtask,
)
from agent.targets import HELD_BACK, wrong_control, wrong_row
from agent.toolcode import as_tool_call, ran_as_tool, skill_in_code

MAX_REASKS = 2
OVERFLOW_SHRINK = (1.0, 0.6, 0.35)  # shares of the prompt budget tried after a context overflow
MAX_TOKENS = 1500  # one action (a script can be long) or a final answer
RESULT_CHARS = 300
REPLY_RESERVE_TOKENS = MAX_TOKENS
CUT_OFF = (
    "this action was cut off by a restart and is not run again; "
    "check its effect before repeating it"
)
NO_ACTION = (
    "No tool has been called in this subtask yet, so nothing is done. Call a tool to do the "
    "work; answer without one only if the subtask truly needs no action."
)
NOTHING_WORKED = "Nothing has worked in this subtask yet: every action failed or was held back"
REPEATED = "You repeated the action that just failed"
BARRED = "is not offered for your next reply"
DENIED = "denied: a person did not approve this action"
REASK = "Your last reply had neither a tool call nor an answer. Call one tool, or reply with the final answer."


def render_plan(plan: list[SubtaskState], current: int) -> str:
    """The plan as numbered lines: status of each subtask, and what the done ones found."""
    lines = []
    for s in plan:
        mark = (
            "[now] "
            if s.index == current
            else {"done": "[done] ", "failed": "[failed] "}.get(s.status, "")
        )
        line = f"{s.index + 1}. {mark}{s.goal}"
        if s.status == "done" and s.result:
            line += f" -> {' '.join(s.result.split())[:RESULT_CHARS]}"
        lines.append(line)
    return "\n".join(lines)


def executor_messages(
    state: AgentState, ctx: RunContext, items: list[ContextItem], records: list[Record]
) -> list[Message]:
    """The executor's conversation for the current attempt, fitted to the context window."""
    sub = current_subtask(state)
    assert sub is not None
    retry = ""
    if sub.attempts and sub.analysis:
        retry = f"A previous attempt failed. Reflection: {sub.analysis}\nDo it differently."
    messages = prompts.render(
        "executor",
        task=state["task"],
        plan=render_plan(state.get("plan") or [], sub.index),
        number=str(sub.index + 1),
        goal=sub.goal,
        done_when=sub.done_when or "(see the goal)",
        # past episodes shaped the plan; the executor gets lessons, SOPs and tips only
        experience=render_experience(
            [i for i in [*state.get("recalled", []), *items] if i.level != "episodic"]
        ),
        retry=retry,
    )
    messages += [m for r in records for m in r.to_messages()]
    return messages


def prompt_tokens(text: str) -> int:
    """What a message costs the model's context window, cautiously: three characters a
    token, and one token per digit (Qwen and Llama tokenizers split numbers into digits, so
    a CSV or a table costs far more tokens than its length suggests).

    Not :func:`memory.estimate_tokens`: that one sizes memory text (prose) against the
    memory budgets, the same for the store and for recall; this one sizes whole prompts,
    tool output included, against the model's context window.
    """
    digits = sum(map(str.isdigit, text))
    return (len(text) - digits) // 3 + digits + 1


def fit_messages(
    messages: list[Message], budget_tokens: int, *, keep_last: int = 2
) -> list[Message]:
    """Shorten old observations (oldest first, the last ``keep_last`` kept) to fit the budget."""

    def size(ms: list[Message]) -> int:
        return sum(
            prompt_tokens(m.content)
            + 4
            + sum(prompt_tokens(json.dumps(c.arguments)) for c in m.tool_calls)
            for m in ms
        )

    total = size(messages)
    if total <= budget_tokens:
        return messages
    out = list(messages)
    tool_positions = [i for i, m in enumerate(out) if m.role == "tool"]
    old, recent = (
        tool_positions[:-keep_last] if len(tool_positions) > keep_last else [],
        tool_positions[-keep_last:],
    )
    for limit, positions in ((300, old), (120, old), (600, recent), (120, recent)):
        for i in positions:
            m = out[i]
            if len(m.content) > limit:
                cut = len(m.content) - limit
                content = f"{m.content[:limit]}\n[... {cut} characters of this observation cut to fit the context ...]"
                total -= prompt_tokens(m.content) - prompt_tokens(content)
                out[i] = m.model_copy(update={"content": content})
                if total <= budget_tokens:
                    return out
    return out


async def execute(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: one ReAct step of the model on the current subtask."""
    ctx = runtime.context
    stop = exceeded(state, ctx)
    if stop:
        return {"stop_reason": stop, "elapsed_s": ctx.elapsed()}
    sub = current_subtask(state)
    assert sub is not None, "execute needs a current subtask"
    records = attempt_records(state, sub.id, sub.attempts)
    update: dict[str, Any] = {}
    items = state.get("subtask_items", [])
    if not records:  # a new attempt: fetch the SOPs most similar to this subtask
        plan = [
            s.model_copy(update={"status": "running"}) if s.index == sub.index else s
            for s in state["plan"]
        ]
        update["plan"] = plan
        items = []
        # the files the goal names that a server of the task holds (a file share): a local
        # copy first, so the shapes below, a skill's arguments and the model all see it
        fetched = await asyncio.to_thread(
            fetch_inputs,
            sub.goal,
            state.get("task", ""),
            getattr(ctx.tools, "workspace", None),
            ctx.settings.tools.allowed_hosts,
        )
        if ctx.memory is not None:
            # only SOPs (in full or in the index) can come back from a procedural search:
            # counting the other recalled items would only make it fetch more
            known = {i.id for i in state.get("recalled", []) if i.level in ("procedural", "index")}
            items = recall_for_subtask(ctx.memory, sub.goal, known, budgets=ctx.settings.memory)
            workspace = getattr(ctx.tools, "workspace", None)
            inputs = input_files(sub.goal, workspace)
            items += recall_skills(
                ctx.memory, sub.goal, inputs=inputs, columns=header_names(workspace, inputs)
            )
        update |= {"subtask_items": items, "items_in_context": [i.id for i in items]}
        workspace = getattr(ctx.tools, "workspace", None)
        written = outputs_of(state.get("trajectory", []), ctx.registry)
        # look before computing: the model need not guess column names; and a learned
        # skill that fits comes with its arguments filled in, so a small model only calls
        opening: list[Record] = [
            NoteStep(subtask=sub.id, attempt=sub.attempts, purpose="info", text=text)
            for text in (
                fetched_note(fetched),
                input_shapes(sub.goal, workspace, written),
                skill_note(items, sub.goal, workspace, written),
                mail_tools_note(sub.goal, await _inbox(sub.goal, ctx))
                if "mail_send" in ctx.registry
                else None,
            )
            if text
        ]
        if opening:
            records = opening
            update["trajectory"] = opening
    mine: dict[str, Any] = {"subtask": sub.id, "attempt": sub.attempts}
    steps_taken = sum(1 for r in records if r.kind == "model")
    if steps_taken >= ctx.settings.limits.max_steps_per_subtask:
        note = NoteStep(
            **mine,
            purpose="limit",
            text=f"Step limit of this subtask reached ({steps_taken} steps).",
        )
        return update | {"trajectory": [note], "elapsed_s": ctx.elapsed()}
    looping = loop_note(records, _read_only(ctx))
    if looping is not None:
        text, ends = looping
        note = NoteStep(**mine, purpose="limit" if ends else "info", text=text)
        if ends:  # the same call, same result, four times: this attempt ends
            return update | {"trajectory": [note], "elapsed_s": ctx.elapsed()}
        if not any(r.kind == "note" and r.text == text for r in records):
            records = [*records, note]
            update["trajectory"] = [note]
    sent = form_done(
        sub.goal,
        records,
        read_only=_read_only(ctx),
        task=state.get("task", ""),
        history=state.get("trajectory", []),
        done_when=sub.done_when,
        registry=ctx.registry,
        workspace=getattr(ctx.tools, "workspace", None),
    )
    if sent is not None:  # a form sent with all the goal gives: judged, not clicked on
        note = NoteStep(**mine, purpose="limit", text=sent)
        return update | {
            "trajectory": [*update.get("trajectory", []), note],
            "elapsed_s": ctx.elapsed(),
        }
    seen = next((r.output for r in reversed(records) if isinstance(r, ToolStep) and r.output), "")
    fill = "browser_fill" in ctx.registry
    for purpose, said in page_notes(state.get("task", ""), sub.goal, seen, fill):
        if not any(r.kind == "note" and r.text == said for r in records):
            note = NoteStep(**mine, purpose=purpose, text=said)
            records = [*records, note]
            update["trajectory"] = [*update.get("trajectory", []), note]
    tips = tips_by_tool(state.get("recalled", []))
    skills = [ToolSpec(**x) for x in skill_specs(items)]
    barred = _barred(records)
    specs = [s for s in ctx.tool_specs(tips) + skills if s.name not in barred]
    acted = any(r.kind == "tool" for r in records)
    trajectory = state.get("trajectory", [])
    earlier = [r for r in trajectory if r.subtask == sub.id and r.attempt < sub.attempts]
    proven = None if acted else skill_to_call(records, earlier)
    if proven is not None and any(s.name == proven for s in specs):
        specs = [s for s in specs if s.name == proven]  # the retry's first reply calls it
    budget = ctx.profile.context_window - REPLY_RESERVE_TOKENS - ctx.spec_tokens(tips, skills)
    full = executor_messages(state, ctx, items, records)
    for shrink in OVERFLOW_SHRINK:  # estimates can be wrong: fit harder if the server says so
        try:
            reply = await ctx.llm.complete(
                fit_messages(full, int(budget * shrink)),
                tools=specs,
                max_tokens=MAX_TOKENS,
                # nothing is done before a tool has run: the first reply of an attempt must
                # act (small models otherwise claim success at once, costing a nudge, a
                # failed verdict and a retry)
                # and so must the reply to a nudge after a give-up in prose, or to a second
                # warning of a repeat (below)
                require_tool=not acted or _nudged_last(records) or bool(barred),
            )
            break
        except ContextOverflow:
            if shrink == OVERFLOW_SHRINK[-1]:
                raise
        except StructuredOutputError as exc:
            # a model that cannot form an action after its re-asks fails this attempt (the
            # reflector judges it, the planner may retry), never the whole run
            note = NoteStep(
                **mine,
                purpose="limit",
                text=f"The model gave no usable action in {exc.attempts} replies "
                f"({exc.last_error[:200]}); this attempt ends.",
            )
            return update | {
                "trajectory": [*update.get("trajectory", []), note],
                "elapsed_s": ctx.elapsed(),
            }
    failed = repeated_failure(records, reply.tool_calls)
    if failed is not None:  # the same call that just failed: not run again
        vain, warned = _warnings(records)
        names = ", ".join(c.name for c in reply.tool_calls)
        step = ModelStep(**mine, text=f"(repeated {names})", tokens=reply.usage.total_tokens)
        if vain >= 2 or warned >= 4:
            note = NoteStep(**mine, purpose="limit", text=f"{REPEATED} again; this attempt ends.")
        elif vain == 1:
            # the same call right after the warning: the next reply must use another tool
            # (the 1.5B model went back to one failing call in 5 of 8 runs of a curve pass)
            out = ", ".join(sorted({c.name for c in reply.tool_calls}))
            text = f"{REPEATED} again: {failed}. Do something different: {out} {BARRED}."
            note = NoteStep(**mine, purpose="reask", text=text)
        else:
            text = f"{REPEATED}: {failed}. Do something different."
            note = NoteStep(**mine, purpose="reask", text=text)
        return update | {
            "trajectory": [*update.get("trajectory", []), step, note],
            "steps": 1,
            "usage": reply.usage,
            "elapsed_s": ctx.elapsed(),
        }
    new: list[Record] = [
        ModelStep(
            **mine, text=reply.text, tool_calls=reply.tool_calls, tokens=reply.usage.total_tokens
        )
    ]
    nudged = any(r.kind == "note" and r.text == NO_ACTION for r in records)
    if not reply.tool_calls and reply.text.strip() and not acted and not nudged:
        # small models often claim success before doing anything: one nudge per attempt
        new.append(NoteStep(**mine, purpose="reask", text=NO_ACTION))
    elif not reply.tool_calls and reply.text.strip() and _stuck(records):
        # the 1.5B model explained an error in prose ("you need to open Trac at http://...")
        # and stopped, in 15 of 99 attempts of the curve: one nudge, and its reply must act
        new.append(NoteStep(**mine, purpose="reask", text=_nothing_worked(records)))
    elif not reply.tool_calls and not reply.text.strip():
        trailing = 0
        for r in reversed(records):
            if not (r.kind == "note" and r.purpose == "reask") and not (
                r.kind == "model" and not r.text and not r.tool_calls
            ):
                break
            trailing += r.kind == "note"
        if trailing < MAX_REASKS:
            new.append(NoteStep(**mine, purpose="reask", text=REASK))
    return update | {
        "trajectory": [*update.get("trajectory", []), *new],
        "steps": 1,
        "usage": reply.usage,
        "elapsed_s": ctx.elapsed(),
    }


def _stuck(records: list[Record]) -> bool:
    """The attempt acted, every action failed or was held back, and it was not nudged yet."""
    steps = [r for r in records if isinstance(r, ToolStep)]
    return (
        bool(steps)
        and not any(s.executed and not s.error for s in steps)
        and not any(r.kind == "note" and r.text.startswith(NOTHING_WORKED) for r in records)
    )


def _nothing_worked(records: list[Record]) -> str:
    last = [r for r in records if isinstance(r, ToolStep)][-1]
    error = (last.error or "").strip().splitlines()
    return (
        f"{NOTHING_WORKED} (last: {last.tool}: {error[0][:240] if error else 'no result'}). "
        "Act on what that message says, with a tool call now."
    )


def _warnings(records: list[Record]) -> tuple[int, int]:
    """``(since, all)``: the repeat warnings since the last action that worked, and in all.
    Two in vain end the attempt at the next repeat; an action that worked in between earns
    the model more (it opened the ticket page after a warning, was told which control to
    click, and went back to the same failing script), four at most."""
    since = total = 0
    for r in records:
        if isinstance(r, ToolStep) and r.executed and not r.error:
            since = 0
        elif r.kind == "note" and r.purpose == "reask" and r.text.startswith(REPEATED):
            since, total = since + 1, total + 1
    return since, total


def _barred(records: list[Record]) -> set[str]:
    """The tools the last note keeps out of the next reply."""
    last = records[-1] if records else None
    if last is None or last.kind != "note" or not last.text.endswith(f"{BARRED}."):
        return set()
    named = last.text.rsplit("Do something different: ", 1)[-1].removesuffix(f" {BARRED}.")
    return {n.strip() for n in named.split(",")}


def _nudged_last(records: list[Record]) -> bool:
    return (
        bool(records) and records[-1].kind == "note" and records[-1].text.startswith(NOTHING_WORKED)
    )


def _read_only(ctx: RunContext) -> Callable[[str], bool]:
    registry = ctx.registry
    return lambda name: name in registry and registry.get(name).read_only


def repeated_failure(records: list[Record], calls: list[ToolCall]) -> str | None:
    """The error of an earlier action of the attempt if ``calls`` repeat it exactly and it
    failed: right before, or with other steps in between (the 1.5B model alternated a read
    of the input with the same broken script until the step limit)."""
    if not calls:
        return None
    wanted = [(c.name, c.arguments) for c in calls]
    model_at = [i for i, r in enumerate(records) if isinstance(r, ModelStep) and r.tool_calls]
    for n, i in enumerate(model_at):
        r = records[i]
        assert isinstance(r, ModelStep)
        if [(c.name, c.arguments) for c in r.tool_calls] != wanted:
            continue
        end = model_at[n + 1] if n + 1 < len(model_at) else len(records)
        errors = [
            t.error
            for t in records[i + 1 : end]
            if isinstance(t, ToolStep) and t.error and not t.error.startswith(HELD_BACK)
        ]  # a call held back is run when sent again
        if errors:
            return errors[0][:300]
    return None


async def act(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Node: run the tool calls of the model's last step, each at most once."""
    ctx = runtime.context
    trajectory = state["trajectory"]
    pos = max(i for i, r in enumerate(trajectory) if r.kind == "model")
    step = trajectory[pos]
    assert isinstance(step, ModelStep)
    out = []
    for n, call in enumerate(step.tool_calls):
        out.append(await run_action(state, ctx, step, call, key=f"{pos}:{n}"))
    return {"trajectory": out, "elapsed_s": ctx.elapsed()}


async def run_action(
    state: AgentState, ctx: RunContext, step: ModelStep, call: ToolCall, *, key: str
) -> ToolStep:
    """One tool action through the journal: replay, approval, budget, then the tool itself.
    python_run code that is only a call of an offered tool runs as that call (agent.toolcode)."""
    said = ""
    if call.name == "python_run":
        offered = {s.name: s.parameters for s in ctx.tool_specs({})} | _skill_parameters(state)
        if (lone := as_tool_call(call, offered)) is not None:
            call, said = lone, ran_as_tool(call, lone)
    base = ToolStep(
        subtask=step.subtask,
        attempt=step.attempt,
        call_id=call.id,
        tool=call.name,
        arguments=call.arguments,
    )
    recorded = ctx.journal.result(key)
    if recorded is not None:
        return ToolStep.model_validate(recorded)
    if ctx.journal.started(key):
        result = base.model_copy(update={"executed": False, "error": CUT_OFF})
    elif _needs_approval(state, ctx, call.name) and not _approved(
        interrupt({"tool": call.name, "arguments": call.arguments, "call_id": call.id})
    ):
        result = base.model_copy(update={"executed": False, "error": DENIED})
    elif stop := exceeded(state, ctx):
        result = base.model_copy(update={"executed": False, "error": f"not run: {stop}"})
    elif held := _held_back(state, call):
        result = base.model_copy(update={"executed": False, "error": held})
    elif call.name.startswith(SKILL_PREFIX):
        ctx.journal.start(key, call.name, call.arguments)
        result = base.model_copy(update=await _run_skill(state, ctx, call))
    else:
        _keep_start(state, ctx, step, call.name)
        ctx.journal.start(key, call.name, call.arguments)
        res = await ctx.registry.call(call.name, call.arguments, ctx.tools)
        output = res.output
        if res.artifacts:
            output += ("\n" if output else "") + "Artifacts: " + ", ".join(res.artifacts)
        result = base.model_copy(update={"output": output, "error": res.error})
    if said:
        result = result.model_copy(update={"output": f"{said}\n{result.output}".rstrip()})
    ctx.journal.finish(key, result.model_dump(mode="json"))
    return result


def _held_back(state: AgentState, call: ToolCall) -> str | None:
    """The error that holds back an action on another numbered row than the goal's, a click
    on a control the goal does not mention while the one it names is shown (agent.targets)
    or while the goal's fields are folded on the page (agent.folded),
    or code that takes a web app of the task for a Python library (agent.apps), unless this
    attempt held back the same call already."""
    sub = current_subtask(state)
    if sub is None:
        return None
    records = attempt_records(state, sub.id, sub.attempts)
    steps = [r for r in records if isinstance(r, ToolStep)]
    if any(
        r.tool == call.name
        and r.arguments == call.arguments
        and (r.error or "").startswith(HELD_BACK)
        for r in steps
    ):
        return None  # sent again after being held back: the model means it
    if held := app_as_module(state.get("task", ""), call.name, call.arguments):
        return held
    if held := skill_in_code(call, _skill_parameters(state)):
        return held
    # the page as last observed, by this attempt or before it (a retry's first click acts
    # on the page the attempt before left)
    seen = next(
        (
            r.output
            for r in reversed(state.get("trajectory", []))
            if isinstance(r, ToolStep) and "Interactive elements" in r.output
        ),
        "",
    )
    acted = {
        str(r.arguments.get("element_id"))
        for r in steps
        if r.executed and not r.error and "element_id" in r.arguments
    }
    return (
        wrong_row(sub.goal, seen, call.name, call.arguments)
        or wrong_control(sub.goal, seen, call.name, call.arguments, acted)
        or unfold_first(sub.goal, seen, call.name, call.arguments)
    )


def _skill_parameters(state: AgentState) -> dict[str, Any]:
    return {s["name"]: s["parameters"] for s in skill_specs(state.get("subtask_items", []))}


def _keep_start(state: AgentState, ctx: RunContext, step: ModelStep, tool: str) -> None:
    """Copy the workspace before the attempt's first change: the start state a skill
    induced from it is replayed against (reads before it changed nothing)."""
    key = (step.subtask, step.attempt)
    if ctx.memory is None or not state.get("learn", True) or key in ctx.starts:
        return
    if tool in ctx.registry and not ctx.registry.get(tool).read_only:
        start = snapshot(getattr(ctx.tools, "workspace", None))
        if start is not None:
            ctx.starts[key] = start
            if ctx.first_files is None:
                ctx.first_files = files_in(start)


async def _run_skill(state: AgentState, ctx: RunContext, call: ToolCall) -> dict[str, Any]:
    """A skill call: its steps through the registry, its use in the skill's history."""
    found = skill_of(state.get("subtask_items", []), call.name)
    if found is None:
        offered = [i.tool for i in state.get("subtask_items", []) if i.level == "skill"]
        return {"error": f"no skill {call.name!r} is offered now; offered: {offered or 'none'}"}
    item_id, skill = found
    run = await run_through(ctx, skill, dict(call.arguments))
    if ctx.memory is not None and state.get("learn", True) and run.steps:
        record_use(ctx.memory, item_id, run)
    inner = [
        ToolStep(call_id=f"{call.id}.{n}", tool=s.tool, arguments=s.arguments, output=s.output,
                 error=s.error)
        for n, s in enumerate(run.steps)
    ]  # fmt: skip
    error = "a step of the skill failed" if run.error else None
    return {"output": run.observation(), "error": error, "inner": inner}


async def _inbox(goal: str, ctx: RunContext) -> str:
    return await listed_inbox(goal, ctx.registry, ctx.tools, ctx.settings.approval_tools)


def _needs_approval(state: AgentState, ctx: RunContext, name: str) -> bool:
    """Whether a person must approve the call: the tool is listed, or a skill calls one."""
    wanted = set(ctx.settings.approval_tools)
    if name in wanted:
        return True
    found = skill_of(state.get("subtask_items", []), name) if wanted else None
    return found is not None and any(s.tool in wanted for s in found[1].steps)


def _approved(decision: Any) -> bool:
    if isinstance(decision, dict):
        decision = decision.get("approved", False)
    if isinstance(decision, str):
        return decision.strip().lower() in ("y", "yes", "approve", "approved", "true")
    return decision is True


__all__ = ["act", "credited_ids", "execute", "executor_messages", "fit_messages", "render_plan"]
