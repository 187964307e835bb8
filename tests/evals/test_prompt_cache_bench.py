"""The prompt cache bench records what the local profile's client really sends (no server).

The bench is only as good as its sequence: two tasks, each an attempt judged failed, a
second attempt and its verdict, with roles alternating as in a benchmark run.
"""

from __future__ import annotations

from pathlib import Path

from evals.perf.prompt_cache_bench import record


async def test_the_recorded_sequence_alternates_roles_over_two_tasks(tmp_path: Path) -> None:
    requests = await record("local-small", 3, tmp_path)
    roles = [
        "executor" if "executor" in r["messages"][0]["content"][:60] else "reflector"
        for r in requests
    ]
    # per task: 3 reads and a final answer, a verdict; again for the second attempt
    one_task = ["executor"] * 4 + ["reflector"] + ["executor"] * 4 + ["reflector"]
    assert roles == one_task * 2
    for r in requests:
        assert r["model"] == "qwen2.5-coder-0.5b-instruct"
        assert r["messages"][0]["role"] == "system" and "response_format" in r
    # the second attempt was told why the first failed, and reads other lines
    retry = requests[5]["messages"][1]["content"]
    assert "read every part of data.txt" in retry
    first, second = requests[0]["messages"][1]["content"], requests[10]["messages"][1]["content"]
    assert "the total of the amount column" in first and "most rows" in second
