"""Replay recorded judged attempts through the evidence rules: false successes and false
failures before (the model's verdict) and after (the rules applied).

    PYTHONPATH=$PWD .venv/bin/python evals/probes/corpus.py tests/agent/data/judged_attempts.jsonl
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def load(path: Path) -> list[dict[str, Any]]:
    """The corpus entries (one judged attempt per JSONL line)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def replay(entry: dict[str, Any]) -> tuple[bool, str | None]:
    """The verdict the reflector's guard gives today on a recorded attempt: the model's
    verdict, unless a rule overrules a success or a code check a failure; and the rule
    (or "verified")."""
    from agent.evidence import outputs_of
    from agent.models import Reflection
    from agent.reflector import guard
    from agent.state import records_from_json
    from tools import default_registry

    registry = default_registry()
    records = records_from_json(entry["attempt"])
    # the run's records before the attempt, where recorded (the page states it first saw)
    history = records_from_json(entry.get("before", [])) + records
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        for name, text in entry.get("files", {}).items():
            (ws / name).write_text(text)
        # an entry from a benchmark's runs keeps no workspace: the file rules are skipped
        verdict, broken, verified = guard(
            Reflection(achieved=entry["model_verdict"]), "", ws if entry.get("workspace", True) else None,
            goal=entry["goal"], attempt=records, outputs=outputs_of(records, registry),
            registry=registry, task=entry.get("task", ""), history=history,
        )  # fmt: skip
    return verdict.achieved, broken.rule if broken else ("verified" if verified else None)


def counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    """False successes/failures of the model alone and with the rules."""
    out = {"attempts": len(entries), "fs_before": 0, "ff_before": 0, "fs_after": 0, "ff_after": 0}
    for e in entries:
        after, _ = replay(e)
        out["fs_before"] += e["model_verdict"] and not e["truth"]
        out["ff_before"] += not e["model_verdict"] and e["truth"]
        out["fs_after"] += after and not e["truth"]
        out["ff_after"] += not after and e["truth"]
    return out


if __name__ == "__main__":
    print(json.dumps(counts(load(Path(sys.argv[1])))))
