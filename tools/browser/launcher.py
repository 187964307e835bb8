"""Finding a Chromium executable and the flags it runs with on a headless server."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.errors import BrowserNotFound
from tools.settings import ToolSettings

# Without the background-networking flags Chromium keeps trying hosts it cannot reach.
LAUNCH_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--metrics-recording-only",
    "--password-store=basic",
)
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = (
    "no Chromium browser found. Install one with `apt-get install chromium` (Debian/Ubuntu), "
    "or `playwright install chromium` where downloads work, or set the tools.browser_path "
    "setting to an executable"
)


def find_browser(settings: ToolSettings, playwright_path: str | None = None) -> Path:
    """The executable to launch: configured path, Playwright's download, then the system's."""
    if settings.browser_path is not None:
        path = Path(settings.browser_path).expanduser()
        if not path.is_file():
            raise BrowserNotFound(f"tools.browser_path {path} does not exist; {INSTALL_HINT}")
        return path
    if playwright_path and Path(playwright_path).is_file():
        return Path(playwright_path)
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(INSTALL_HINT)
