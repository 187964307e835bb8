"""Approval of risky tool calls on the terminal, shared by `run`, `resume` and `session`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

Approver = Callable[[dict[str, Any]], bool]


def terminal_approver(json_mode: bool) -> Approver | None:
    """Ask on the terminal when there is one; otherwise deny (None)."""
    if json_mode or not sys.stdin.isatty():
        return None

    def ask(request: dict[str, Any]) -> bool:
        from rich.console import Console
        from rich.prompt import Confirm

        Console(stderr=True).print(
            f"[bold yellow]approval needed[/]: {request['tool']} {request['arguments']}"
        )
        return Confirm.ask("Allow this action?", default=False)

    return ask
