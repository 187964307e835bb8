"""The agent benchmark still runs all three contenders on the same script (small sizes).

It broke silently once: journeyman's default profile changed and the script no longer fit.
`main` asserts each contender took exactly the scripted steps and that the task was achieved.
"""

from __future__ import annotations

import pytest

from evals.perf.agent_bench import main


# baseline (b) is LangGraph's prebuilt ReAct agent, which LangGraph 1.x marks as moved
@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
async def test_agent_bench_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    await main(4, 1, 50, 2, None)
    out = capsys.readouterr().out
    assert "journeyman / (a) bare loop:" in out and "journeyman / (b) prebuilt ReAct:" in out
    assert "of which the store closing (index batch)" in out  # index writes left for a batch
