"""A scripted model that learns one kind of instance: a table on the share, totalled per key.

    python -m evals.learning_curve --model evals.bench.scripted_curve:build --iterations 2 \\
        --families expenses --tiers micro --transfer-families sales-report

It recognises a task asking for a workspace CSV with the header ``<key>,total`` (the
``expenses`` family) or ``<key>,revenue`` (``sales-report``) computed from a CSV on the file
share, whatever the wording, file names or key. As a novice it counts rows instead of
summing the value column (half the checkpoints). Code recomputes such totals and
overrules its claim of success, and its retry, told what the sums should be, sums them: a
verified success, from which the procedure it proposes through the reflector is kept. It
acts as an expert at the first attempt only when that procedure is in its prompt. With a
carried store the calls per solved task fall on fresh instances; with memory off every
instance takes the failed attempt and the retry; with a frozen store the procedure carries
to the sales family. Every reply is a function of the conversation alone (resumable).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from agent.llm import FunctionLLM
from agent.llm.base import Message, ToolSpec
from agent.models import Distillation, Plan, Reflection

SOP_TITLE = "Total a table per key with a script"
SOP = (
    "Counting rows gives the wrong totals: fetch the CSV from the share and sum the value "
    "column (amount or revenue) per key with a short Python script, two decimals, then write "
    "the header line the task asks for and one row per key."
)
_SCRIPT = """import csv, io, urllib.request
from collections import defaultdict
url, key, value, out, header, count = {args}
rows = csv.DictReader(io.StringIO(urllib.request.urlopen(url).read().decode()))
totals = defaultdict(float)
for r in rows:
    totals[r["date"][:7] if key == "month" else r[key]] += 1 if count else float(r[value])
with open(out, "w") as f:
    f.write(header + "\\n" + "".join(f"{{k}},{{v:.2f}}\\n" for k, v in sorted(totals.items())))
"""


class _Job(BaseModel):
    url: str
    key: str
    value: str
    output: str
    header: str


def _job(messages: list[Message]) -> _Job | None:
    """The table task described in the first user message, if it is one."""
    text = next((m.content for m in messages if m.role == "user"), "")
    share = re.search(r"File share: (http://\S+)", text)
    header = re.search(r"`(\w+),(total|revenue)`", text)
    paths = re.findall(r"`([\w./-]+\.csv)`", text)
    source = next((p for p in paths if "/" in p), None)
    output = next((p for p in paths if "/" not in p), None)
    if not (share and header and source and output):
        return None
    return _Job(
        url=f"{share.group(1).rstrip('/')}/{source}",
        key=header.group(1),
        value="amount" if header.group(2) == "total" else "revenue",
        output=output,
        header=f"{header.group(1)},{header.group(2)}",
    )


def _knows(messages: list[Message]) -> bool:
    """The procedure is in the prompt, or the retry's note says what the totals should be
    (the overruled attempt's analysis: "... but the amount column of X sums to 123")."""
    return any(
        SOP_TITLE in m.content or re.search(r"column of \S+ sums to", m.content)
        for m in messages
        if m.role in ("system", "user")
    )


def reply(
    messages: list[Message], tools: list[ToolSpec] | None, output: type[BaseModel] | None
) -> Any:
    """The next reply, computed from the conversation only."""
    job = _job(messages)
    if output is Plan:
        return {"subtasks": [{"goal": "write the totals file", "done_when": "the file exists"}]}
    if output is Reflection:
        edit = []
        if job is not None and not any(SOP_TITLE in m.content for m in messages):
            edit = [
                {
                    "level": "procedural",
                    "title": SOP_TITLE,
                    "content": SOP,
                    "when_to_use": "A task asks for a CSV of totals per key of a table on the "
                    "file share.",
                    "scope": "files",
                }
            ]
        return {"achieved": True, "evidence": "the file was written", "memory": edit}
    if output is Distillation:
        return {"lessons": []}
    if output is not None:
        return {}
    if job is None or any(m.role == "tool" for m in messages):
        return {"final_answer": "done" if job else "I do not know how to do this task."}
    args = (job.url, job.key, job.value, job.output, job.header, not _knows(messages))
    script = _SCRIPT.format(args=repr(args))
    command = f"python3 - <<'JM_SCRIPT'\n{script}JM_SCRIPT"
    return {"tool": "shell_run", "arguments": {"command": command}}


def build(settings: Any = None) -> FunctionLLM:
    """The factory for ``--model evals.bench.scripted_curve:build``."""
    return FunctionLLM(reply, name="table-learner")
