"""The default catalogue: which tools make up each group, and the registry built from them.

It lives above the tool modules (it imports them; they import only ``tools.registry``),
so no tool module needs the module that lists it.
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.registry import GROUPS, Tool, ToolRegistry


def default_registry(enabled: Iterable[str] = GROUPS, *, read_only: bool = False) -> ToolRegistry:
    """A registry with the tools of the ``enabled`` groups (only read-only ones if asked)."""
    enabled = list(enabled)
    unknown = [g for g in enabled if g not in GROUPS]
    if unknown:
        raise ValueError(f"unknown tool group(s) {unknown}; known: {list(GROUPS)}")
    registry = ToolRegistry(t for g in enabled for t in _group_tools(g))
    return registry.subset(read_only=True) if read_only else registry


def _group_tools(group: str) -> list[Tool]:
    """The tools of one group, imported only when enabled (the browser pulls Playwright)."""
    if group == "browser":
        from tools.browser.actions import BROWSER_TOOLS
        from tools.browser.forms import FORM_TOOLS

        return [*BROWSER_TOOLS, *FORM_TOOLS]
    if group == "files":
        from tools.files import FILE_TOOLS

        return FILE_TOOLS
    if group == "shell":
        from tools.shell import SHELL_TOOLS

        return SHELL_TOOLS
    if group == "mail":
        from tools.mail import MAIL_TOOLS

        return MAIL_TOOLS
    if group == "python":
        from tools.python_env import PYTHON_TOOLS

        return PYTHON_TOOLS
    from tools.memory_lookup import MEMORY_TOOLS

    return MEMORY_TOOLS
