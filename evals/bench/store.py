"""The results folder of a benchmark run: append-only JSONL that survives a SIGKILL.

Each line is written whole and fsynced before the next task starts, so a killed run loses
at most the task it was running. A line cut short by a kill is dropped when the folder is
opened again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from evals.bench.records import IterationRecord, Manifest, TaskKey, TaskResult

RESULTS = "results.jsonl"
ITERATIONS = "iterations.jsonl"
MANIFEST = "manifest.json"

M = TypeVar("M", bound=BaseModel)


class ResultsStore:
    """``results.jsonl``, ``iterations.jsonl`` and ``manifest.json`` of one run folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser().resolve()

    @property
    def results_path(self) -> Path:
        """``<folder>/results.jsonl``."""
        return self.folder / RESULTS

    @property
    def iterations_path(self) -> Path:
        """``<folder>/iterations.jsonl``."""
        return self.folder / ITERATIONS

    @property
    def manifest_path(self) -> Path:
        """``<folder>/manifest.json``."""
        return self.folder / MANIFEST

    def exists(self) -> bool:
        """Whether the folder holds any result or manifest."""
        return self.results_path.exists() or self.manifest_path.exists()

    # -- reading ---------------------------------------------------------------------
    def results(self) -> list[TaskResult]:
        """The latest complete result line of each attempt, in the order written (an
        attempt run again on resume appends a line that replaces the earlier one)."""
        latest: dict[TaskKey, TaskResult] = {}
        for r in _read(self.results_path, TaskResult):
            latest.pop(r.key, None)
            latest[r.key] = r
        return list(latest.values())

    def iterations(self) -> list[IterationRecord]:
        """Every complete iteration line, in the order written."""
        return _read(self.iterations_path, IterationRecord)

    def done(self) -> dict[TaskKey, TaskResult]:
        """Finished attempts by key (the last line wins)."""
        return {r.key: r for r in self.results()}

    def manifest(self) -> Manifest:
        """The manifest (empty when missing)."""
        if not self.manifest_path.exists():
            return Manifest()
        return Manifest.model_validate_json(self.manifest_path.read_text(encoding="utf-8"))

    # -- writing ---------------------------------------------------------------------
    def save_manifest(self, manifest: Manifest) -> None:
        """Write the manifest atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(self.manifest_path)

    def append(self, result: TaskResult) -> None:
        """Append one task's result, durably."""
        _append(self.results_path, result)

    def append_iteration(self, record: IterationRecord) -> None:
        """Append one iteration's record, durably."""
        _append(self.iterations_path, record)

    def repair(self) -> int:
        """Drop a trailing line cut short by a kill; return the bytes dropped."""
        dropped = 0
        for path in (self.results_path, self.iterations_path):
            dropped += _drop_partial_tail(path)
        return dropped


def _read(path: Path, model: type[M]) -> list[M]:
    if not path.exists():
        return []
    out: list[M] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(model.model_validate_json(line))
        except ValidationError:
            continue  # a line cut short by a kill
    return out


def _append(path: Path, record: BaseModel) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _drop_partial_tail(path)
    line = json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n"
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def _drop_partial_tail(path: Path) -> int:
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as fh:
        fh.truncate(keep)
    return len(data) - keep
