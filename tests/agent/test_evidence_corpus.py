"""The evidence rules over recorded judged attempts of the local models (issue 16).

The corpus is recorded by ``evals/probes/run.py`` (real runs of the local models on the
probe pages and CSV wordings, each verdict with the page's or the oracle's truth; see
``evals/results/judgment-probes/summary.md``), and by ``evals/probes/from_runs.py`` (the runs
of the committed learning curves judged achieved, labelled ``run:``, graded by their tasks'
graders; their workspaces were not kept, so the file rules are not replayed on them). The
replay is the reflector's own guard: the rules that overrule a success and the code checks
that overrule a failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "evals" / "probes"))
from corpus import counts, load, replay  # noqa: E402

CORPUS = Path(__file__).parent / "data" / "judged_attempts.jsonl"


def test_no_false_success_a_rule_can_catch() -> None:
    entries = load(CORPUS)
    assert len(entries) >= 30, len(entries)  # what the issue asks for
    c = counts(entries)
    assert c["ff_after"] <= c["ff_before"] and c["fs_after"] <= c["fs_before"], c
    for e in entries:
        after, why = replay(e)
        if e["model_verdict"] and e["truth"]:
            assert after, (e["goal"], why)  # no right success is overruled
        if after and not e["model_verdict"]:
            assert e["truth"] and why == "verified", e["goal"]  # a failure flipped only by code
        if after and not e["truth"]:
            # a false success left standing is one the rules cannot see: something was done
            # and shown, but wrong (a wrong sum, the wrong button) - the reflector's job
            acted = [
                r for r in e["attempt"] if r["kind"] == "tool" and r["executed"] and not r["error"]
            ]
            assert acted, e["goal"]
    print(c)


def test_replay_counts_before_and_after() -> None:
    """The replay itself, on two hand-written entries (not corpus data): a fooled verdict
    on a page that needed a click, and a right one."""
    page = 'URL: http://127.0.0.1:9/publish\nInteractive elements:\n[3] button "Publish"'
    goto = {
        "kind": "tool", "subtask": 0, "attempt": 0, "call_id": "a", "tool": "browser_goto",
        "arguments": {"url": "http://127.0.0.1:9/publish"}, "output": page, "error": None,
        "executed": True,
    }  # fmt: skip
    click = {**goto, "call_id": "b", "tool": "browser_click", "arguments": {"element_id": 3}}
    goal = "Open http://127.0.0.1:9/publish and do this: Click the 'Publish' button."
    fooled = {"goal": goal, "attempt": [goto], "model_verdict": True, "truth": False}
    right = {"goal": goal, "attempt": [goto, click], "model_verdict": True, "truth": True}
    assert replay(fooled) == (False, "effect_not_done") and replay(right) == (True, None)
    c = counts([fooled, right])
    assert (c["fs_before"], c["fs_after"], c["ff_before"], c["ff_after"]) == (1, 0, 0, 0)
