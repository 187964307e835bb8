"""Every task of acme and acme-transfer: oracle 1.0, null run 0.0 (slow: minutes)."""

from __future__ import annotations

import pytest

from evals.oracles.check import main


@pytest.mark.slow
def test_all_oracles_and_null_runs() -> None:
    assert main(["acme", "acme-transfer"]) == 0
