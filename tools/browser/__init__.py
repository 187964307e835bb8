"""The browser tools: one Playwright Chromium session per run, observed as text."""

from tools.browser.allowlist import HostAllowlist
from tools.browser.launcher import find_browser
from tools.browser.observation import Element, Observation
from tools.browser.session import BrowserSession

__all__ = ["BrowserSession", "Element", "HostAllowlist", "Observation", "find_browser"]
