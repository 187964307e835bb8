"""The task choice of `make learning-curve` (the run itself needs the local model: not here)."""

from __future__ import annotations

from evals.learning_curve import FAMILIES, _parser, pick_tasks


def test_learning_curve_picks_short_tasks_of_several_families() -> None:
    args = _parser().parse_args([])
    tasks = pick_tasks("acme", FAMILIES, args.per_family)
    assert len(tasks) >= 6
    assert len({t.spec.family for t in tasks}) >= 2
    assert all(t.spec.difficulty == "short" for t in tasks)
    transfer = pick_tasks("acme-transfer", FAMILIES, 9, limit=args.transfer)
    assert len(transfer) == 4 and len({t.spec.family for t in transfer}) >= 2
    assert not {t.name for t in transfer} & {t.name for t in tasks}
    assert args.iterations == 3 and args.model == "local"
