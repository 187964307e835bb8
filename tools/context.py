"""The typed context every tool receives: workspace, settings, memory, browser session."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from tools.sandbox import Sandbox
from tools.settings import MailAccount, ToolSettings

if TYPE_CHECKING:
    from tools.browser.session import BrowserSession
    from tools.mcp_client import McpHub


class MemoryLookup(Protocol):
    """The part of ``memory.MemoryStore`` the memory-lookup tools use (see docs/CONTRACTS.md).

    It is declared here, beside the context that carries it, so that the context does not
    need the tool module that uses it.
    """

    def search(
        self, query: str, *, level: str | None = ..., scope: str | None = ..., k: int = ...
    ) -> Sequence[Any]: ...

    def get(self, item_id: Any) -> Any: ...

    def find_by_title(self, title: str) -> Any: ...


class ToolContext:
    """Everything a tool may use during one run; an async context manager.

    The browser starts lazily on the first browser tool call and is closed on exit
    (unless it was passed in, then its owner closes it). The MCP servers of
    ``settings.mcp`` start on entry (``self.mcp``) and stop on exit.
    """

    def __init__(
        self,
        workspace: Path,
        settings: ToolSettings | None = None,
        memory: MemoryLookup | None = None,
        *,
        artifacts_dir: Path | None = None,
        browser: BrowserSession | None = None,
    ) -> None:
        workspace = Path(workspace)
        workspace.mkdir(parents=True, exist_ok=True)
        self.workspace = workspace.resolve()
        self.settings = settings or ToolSettings()
        self.memory = memory
        self.sandbox = Sandbox(self.workspace)
        self._artifacts_dir = artifacts_dir
        self._browser = browser
        self._owns_browser = browser is None
        self._browser_lock = asyncio.Lock()
        self.mcp: McpHub | None = None
        # the mail tools' account: the settings', else the one the run's task gives
        self.mail: MailAccount | None = self.settings.mail

    async def __aenter__(self) -> ToolContext:
        if self.settings.mcp and self.mcp is None:
            from tools.mcp_client import McpHub

            self.mcp = await McpHub.start(self.settings.mcp, workspace=self.workspace)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what this context started (the browser, the MCP servers)."""
        if self.mcp is not None:
            hub, self.mcp = self.mcp, None
            await hub.aclose()
        if self._browser is not None and self._owns_browser:
            browser, self._browser = self._browser, None
            await browser.close()

    @property
    def artifacts_dir(self) -> Path:
        """Folder for screenshots and other artifacts (inside the workspace by default)."""
        path = self._artifacts_dir or self.workspace / self.settings.artifacts_dir
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def browser_started(self) -> bool:
        """Whether a browser session exists (without starting one)."""
        return self._browser is not None

    async def browser(self) -> BrowserSession:
        """The browser session, started on first use."""
        async with self._browser_lock:
            if self._browser is None:
                from tools.browser.session import BrowserSession

                self._browser = await BrowserSession.start(self.settings)
            self._browser.bind(self.workspace, self.workspace / self.settings.downloads_dir)
            return self._browser
