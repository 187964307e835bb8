"""journeyman tools: browser, files, shell, Python and memory lookup, behind one registry.

>>> from tools import ToolContext, default_registry
>>> registry = default_registry(enabled=("files", "shell"))
"""

from tools.catalogue import default_registry
from tools.context import ToolContext
from tools.errors import BrowserNotFound, SandboxViolation, ToolError, ToolSetupError
from tools.registry import Tool, ToolRegistry, tool
from tools.result import ToolResult
from tools.settings import ToolSettings

__all__ = [
    "BrowserNotFound",
    "SandboxViolation",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSettings",
    "ToolSetupError",
    "default_registry",
    "tool",
]
