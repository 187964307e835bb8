"""The action journal: makes every tool action happen at most once per run.

A checkpoint is written after a node finishes; a process killed between running a tool
and that checkpoint would run the tool again on resume. So ``act`` writes a line here
before it runs a tool and another with the result after: on resume, a recorded result is
replayed, and an action that started without a result is reported to the model instead
of being run again. One JSON object per line, flushed (a killed process loses nothing
the OS already has).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol


class Journal(Protocol):
    """What the executor needs of a journal (this file, or agent/pg_runs.py's table)."""

    def result(self, key: str) -> dict[str, Any] | None:
        """The recorded result of an action, if it finished."""
        ...

    def started(self, key: str) -> bool:
        """Whether the action was started."""
        ...

    def start(self, key: str, tool: str, arguments: dict[str, Any]) -> None:
        """Record that an action is about to run."""
        ...

    def finish(self, key: str, result: dict[str, Any]) -> None:
        """Record an action's result."""
        ...


class ActionJournal:
    """Append-only JSONL of started and finished tool actions, keyed by call id."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._started: set[str] = set()
        self._results: dict[str, dict[str, Any]] = {}
        if path is not None and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a torn last line from a kill
                if entry.get("event") == "start":
                    self._started.add(entry["key"])
                elif entry.get("event") == "result":
                    self._results[entry["key"]] = entry["result"]
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def result(self, key: str) -> dict[str, Any] | None:
        """The recorded result of an action, if it finished."""
        return self._results.get(key)

    def started(self, key: str) -> bool:
        """Whether the action was started (it may have finished or been cut off)."""
        return key in self._started

    def start(self, key: str, tool: str, arguments: dict[str, Any]) -> None:
        """Record that an action is about to run."""
        self._started.add(key)
        self._write({"event": "start", "key": key, "tool": tool, "arguments": arguments})

    def finish(self, key: str, result: dict[str, Any]) -> None:
        """Record an action's result."""
        self._results[key] = result
        self._write({"event": "result", "key": key, "result": result})

    def _write(self, entry: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(entry, default=str) + "\n")
            self._file.flush()

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
