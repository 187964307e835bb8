"""One Chromium session for one run: tabs, dialogs, downloads, the allowlist, observations."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.browser.allowlist import HostAllowlist
from tools.browser.launcher import LAUNCH_FLAGS, find_browser
from tools.browser.observation import (
    ID_ATTR,
    OBSERVE_JS,
    Element,
    Observation,
    Tab,
    missing_element,
)
from tools.browser.page_js import DRAWN_BY_LABEL_JS, QUIET_JS, VISIBLE_CONTROLS_JS
from tools.errors import ToolError, ToolSetupError
from tools.settings import ToolSettings

if TYPE_CHECKING:
    from playwright.async_api import (
        BrowserContext,
        Dialog,
        Download,
        Frame,
        Locator,
        Page,
        Playwright,
        Request,
        Route,
    )


log = logging.getLogger(__name__)
_SETTLE_MAX_S = 3.0
QUIET_CAP_S = 1.5  # the most an observation waits for the DOM to stop changing
ENABLE_WAIT_S = 2.0  # how long a disabled element is given to be enabled by the page's scripts


def clean_error(exc: BaseException) -> str:
    """Playwright's message without its call log, plus the log line that says why."""
    text = str(exc).strip()
    first, _, rest = text.partition("\n")
    first = re.sub(r"^\w+\.\w+: ", "", first)
    reasons = [
        line.strip(" -")
        for line in rest.splitlines()
        if any(
            k in line
            for k in (
                "intercepts pointer",
                "not visible",
                "not enabled",
                "not editable",
                "detached",
                "outside of the viewport",
            )
        )
    ]
    return first + (f" ({reasons[-1]})" if reasons else "")


class BrowserSession:
    """A Playwright persistent context with a fresh profile, owned by one run."""

    def __init__(
        self,
        settings: ToolSettings,
        playwright: Playwright,
        context: BrowserContext,
        user_data_dir: Path,
        executable: Path,
    ) -> None:
        self.settings = settings
        self.allowlist = HostAllowlist(settings.allowed_hosts)
        self.executable = executable
        self._pw = playwright
        self._context = context
        self._user_data_dir = user_data_dir
        self.pages: list[Page] = []
        self._active: Page | None = None
        self._notices: list[str] = []
        self._blocked_hosts: set[str] = set()
        self._new_pages: list[Page] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[Request] = set()
        self._next_id = 1
        self._frame_of: dict[int, Frame] = {}
        # what each id was when observed, and the ids of the latest observation by what they
        # are: an id from before a reload is answered with the same element's id now
        self._was: dict[int, tuple[str, str]] = {}
        self._now: dict[tuple[str, str], list[int]] = {}
        self._ids: list[int] = []  # every id of the latest observation
        self._expect_download = False
        self._downloads_dir: Path | None = None
        self._workspace: Path | None = None
        self._closed = False
        self._lock = asyncio.Lock()  # one action at a time: actions share the active tab

    # ------------------------------------------------------------ lifecycle

    @classmethod
    async def start(cls, settings: ToolSettings) -> BrowserSession:
        """Find a browser, launch it headless with a fresh profile, install the handlers."""
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        pw = await async_playwright().start()
        user_data_dir = Path(tempfile.mkdtemp(prefix="jm-browser-"))
        try:
            own = None
            with contextlib.suppress(Exception):
                own = pw.chromium.executable_path
            executable = find_browser(settings, own)
            args = list(LAUNCH_FLAGS)
            rules = HostAllowlist(settings.allowed_hosts).resolver_rules()
            if rules:
                args.append(f"--host-resolver-rules={rules}")
            width, height = settings.browser_viewport
            try:
                context = await pw.chromium.launch_persistent_context(
                    str(user_data_dir),
                    executable_path=str(executable),
                    headless=settings.browser_headless,
                    args=args,
                    accept_downloads=True,
                    viewport={"width": width, "height": height},
                    service_workers="block",
                    timeout=max(settings.browser_timeout_s, 30) * 1000,
                )
            except PlaywrightError as exc:
                raise ToolSetupError(f"could not start {executable}: {clean_error(exc)}") from exc
        except BaseException:
            await pw.stop()
            shutil.rmtree(user_data_dir, ignore_errors=True)
            raise
        session = cls(settings, pw, context, user_data_dir, executable)
        try:
            await session._install()
        except BaseException:
            await session.close()
            raise
        return session

    async def _install(self) -> None:
        ctx = self._context
        ctx.set_default_timeout(self.settings.browser_timeout_s * 1000)
        ctx.set_default_navigation_timeout(self.settings.browser_timeout_s * 1000)
        await ctx.route("**/*", self._route)
        ctx.on("page", self._register)
        ctx.on("request", self._request_started)
        ctx.on("requestfinished", self._request_done)
        ctx.on("requestfailed", self._request_done)
        for page in ctx.pages:
            self._register(page)
        self._new_pages.clear()
        if not self.pages:
            await ctx.new_page()
            self._new_pages.clear()
        self._active = self.pages[0]

    def bind(self, workspace: Path, downloads_dir: Path) -> None:
        """Point downloads (and uploads' path checks) at this run's workspace and folder."""
        self._workspace = workspace
        self._downloads_dir = downloads_dir

    async def close(self) -> None:
        """Close the browser and remove its profile."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self._context.close()
        with contextlib.suppress(Exception):
            await self._pw.stop()
        shutil.rmtree(self._user_data_dir, ignore_errors=True)

    # ------------------------------------------------------------ events

    def _register(self, page: Page) -> None:
        if page in self.pages:
            return
        self.pages.append(page)
        self._new_pages.append(page)
        page.on("dialog", self._on_dialog)
        page.on("download", self._on_download)
        page.on("close", self._on_close)

    def _request_started(self, request: Request) -> None:
        self._inflight.add(request)

    def _request_done(self, request: Request) -> None:
        self._inflight.discard(request)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_dialog(self, dialog: Dialog) -> None:
        async def accept() -> None:
            message = " ".join(dialog.message.split())[:300]
            self._notices.append(f'{dialog.type} dialog "{message}" was accepted')
            with contextlib.suppress(Exception):
                if dialog.type == "prompt":
                    await dialog.accept(dialog.default_value)
                else:
                    await dialog.accept()

        self._spawn(accept())

    def _on_download(self, download: Download) -> None:
        if self._expect_download:
            return

        async def save() -> None:
            try:
                await self._save_download(download, None)
            except Exception as exc:
                self._notices.append(f"a download from {download.url[:120]} failed: {exc}")

        self._spawn(save())

    def _on_close(self, page: Page) -> None:
        if page in self.pages:
            self.pages.remove(page)
        if self._active is page:
            self._active = self.pages[-1] if self.pages else None

    async def _route(self, route: Route) -> None:
        url = route.request.url
        reason = self.allowlist.check(url)
        try:
            if reason is None:
                await route.continue_()
                return
            host = url.split("//", 1)[-1].split("/", 1)[0]
            if host not in self._blocked_hosts:
                self._blocked_hosts.add(host)
                self._notices.append(f"blocked a request to {url[:120]}: {reason}")
            await route.abort("blockedbyclient")
        except Exception:  # the page went away meanwhile
            log.debug("route handling failed for %s", url, exc_info=True)

    async def _save_download(self, download: Download, target: Path | None) -> Path:
        if target is None:
            if self._downloads_dir is None:
                raise ToolError("no workspace bound for downloads")
            self._downloads_dir.mkdir(parents=True, exist_ok=True)
            target = _free_name(self._downloads_dir, download.suggested_filename)
        target.parent.mkdir(parents=True, exist_ok=True)
        await download.save_as(target)
        failure = await download.failure()
        if failure:
            raise ToolError(f"download of {download.url} failed: {failure}")
        shown = str(target.relative_to(self._workspace)) if self._workspace else str(target)
        self._notices.append(f"downloaded {download.suggested_filename!r} to {shown}")
        return target

    def note(self, message: str) -> None:
        """Add a line to the next observation's notices."""
        self._notices.append(message)

    # ------------------------------------------------------------ pages and elements

    @property
    def page(self) -> Page:
        """The active tab (a new blank one if every tab was closed)."""
        if self._active is None or self._active.is_closed():
            raise ToolError("no open tab; use browser_tab_new")
        return self._active

    async def ensure_page(self) -> Page:
        """The active tab, opening a blank one when none is left."""
        if self._active is None or self._active.is_closed():
            self._active = await self._context.new_page()
            self._new_pages.clear()
        return self._active

    async def new_tab(self) -> Page:
        """Open a tab and make it active."""
        page = await self._context.new_page()
        self._register(page)
        self._new_pages.clear()
        self._active = page
        return page

    async def expecting_tab(self, action: Callable[[], Awaitable[Any]]) -> None:
        """Run ``action``, which is expected to open a tab, and wait for that tab."""
        async with self._context.expect_page():
            await action()

    def switch(self, index: int) -> Page:
        """Make tab ``index`` active."""
        if not 0 <= index < len(self.pages):
            raise ToolError(f"no tab {index}; open tabs are 0..{len(self.pages) - 1}")
        self._active = self.pages[index]
        return self._active

    async def locate(self, element_id: int) -> Locator:
        """The element with this id on the active tab (any frame)."""
        page = await self.ensure_page()
        if page.url == "about:blank":
            # the model acted on ids it imagined: say what to do first, not "page changed"
            raise ToolError(
                f"no page is open yet (the tab is blank, it has no element [{element_id}]): "
                "first call browser_goto with the page's address, then use the ids its "
                "observation lists"
            )
        selector = f'[{ID_ATTR}="{element_id}"]'
        frames: list[Frame] = []
        known = self._frame_of.get(element_id)
        if known is not None and known.page is page:
            frames.append(known)
        frames += [f for f in page.frames if f is not known]
        for frame in frames:
            if frame.is_detached():
                continue
            loc = frame.locator(selector)
            with contextlib.suppress(Exception):
                if await loc.count():
                    return loc.first
        was = self._was.get(element_id)
        same = self._now.get(was, []) if was else []
        if was and len(same) == 1:
            role, name = was
            raise ToolError(
                f'element [{element_id}] ({role} "{name}") is not on the current page: the page '
                f'changed since it was seen, and the same {role} "{name}" is now [{same[0]}]'
            )
        raise ToolError(
            missing_element(element_id, page.url, self._ids, self._now, element_id in self._was)
        )

    async def require_enabled(self, loc: Locator, element_id: int) -> None:
        """Fail at once on a disabled element: a click would wait the whole timeout for it."""
        deadline = time.monotonic() + ENABLE_WAIT_S
        while not await loc.is_enabled():
            if time.monotonic() >= deadline:
                role, name = self._was.get(element_id, ("element", "?"))
                raise ToolError(
                    f'[{element_id}] {role} "{name}" is disabled: the page enables it only '
                    "after another step (select an item, fill a field); do that step first"
                )
            await asyncio.sleep(0.2)

    async def require_shown(self, loc: Locator, element_id: int) -> bool:
        """Fail at once on an element the page holds but does not show (an item of a closed
        menu, a hidden panel): a click would wait the whole timeout for it. False for a box
        the page shows only by its label (a styled checkbox of no size): the label stands in."""
        deadline = time.monotonic() + ENABLE_WAIT_S
        while not await loc.is_visible():
            if await loc.evaluate(DRAWN_BY_LABEL_JS):
                return False
            if time.monotonic() >= deadline:
                role, name = self._was.get(element_id, ("element", "?"))
                raise ToolError(
                    f'[{element_id}] {role} "{name}" is in the page but not shown (it sits in a '
                    "closed menu or a hidden panel): first click the control that opens it, or "
                    "use an element the latest observation lists"
                )
            await asyncio.sleep(0.2)
        return True

    def shown(self, role: str) -> list[tuple[int, str]]:
        """``(id, name)`` of the named elements of ``role`` the latest observation listed."""
        return sorted((i, name) for (r, name), ids in self._now.items() if r == role for i in ids)

    # ------------------------------------------------------------ acting and observing

    async def act(self, action: Callable[[], Awaitable[Any]]) -> tuple[Observation, str | None]:
        """Run one action, let the page settle, then observe; errors become text."""
        async with self._lock:
            return await self._act(action)

    async def _act(self, action: Callable[[], Awaitable[Any]]) -> tuple[Observation, str | None]:
        await self.ensure_page()
        for late in self._new_pages:  # opened after the last observation, by the page itself
            if late in self.pages:
                self.note(f"a new tab [{self.pages.index(late)}] opened (browser_tab_switch to it)")
        self._new_pages.clear()
        before = self.page.url
        error = None
        try:
            await action()
        except ToolError as exc:
            error = str(exc)
        except Exception as exc:
            from playwright.async_api import Error as PlaywrightError

            if not isinstance(exc, PlaywrightError):
                raise
            error = clean_error(exc)
            if "ERR_NAME_NOT_RESOLVED" in error:
                error += (
                    " (the host does not exist, or the page redirected to a host outside the "
                    f"allowed hosts: {', '.join(self.allowlist.patterns)})"
                )
        await self.settle()
        await self._leave_blocked_page(before)
        return await self.observe_ready(), error

    async def observe_ready(self) -> Observation:
        """Observe; an element list that is empty while the page shows controls is re-taken
        once (a script was still rendering them)."""
        observation = await self.observe()
        if observation.elements or observation.modal:
            return observation
        visible = False
        with contextlib.suppress(Exception):
            visible = bool(await self.page.evaluate(VISIBLE_CONTROLS_JS))
        if not visible:
            return observation
        await self._quiet()
        again = await self.observe()
        again.notices = observation.notices + again.notices
        return again

    async def _leave_blocked_page(self, before: str) -> None:
        """After a navigation the allowlist blocked, go back to the page the model knew."""
        page = self._active
        if page is None or page.is_closed() or not page.url.startswith("chrome-error:"):
            return
        if before.startswith("chrome-error:") or not any("blocked" in n for n in self._notices):
            return
        with contextlib.suppress(Exception):
            await page.go_back(wait_until="load")
            self.note("the navigation was blocked; back on the previous page")

    async def settle(self) -> None:
        """Wait briefly for new tabs, navigations, requests and handlers to finish."""
        await asyncio.sleep(0.05)
        fresh = [p for p in self._new_pages if not p.is_closed()]
        self._new_pages.clear()
        if fresh:
            self._active = fresh[-1]
            index = self.pages.index(fresh[-1]) if fresh[-1] in self.pages else len(self.pages) - 1
            self._notices.append(f"a new tab [{index}] opened and is now active")
        page = self._active
        deadline = time.monotonic() + _SETTLE_MAX_S
        if page is not None and not page.is_closed():
            with contextlib.suppress(Exception):
                await page.wait_for_load_state("load", timeout=_SETTLE_MAX_S * 1000)
        while time.monotonic() < deadline:
            busy = [
                r for r in self._inflight if r.resource_type not in ("websocket", "eventsource")
            ]
            if not busy and not self._tasks:
                break
            await asyncio.sleep(0.05)
        await self._quiet()

    async def _quiet(self) -> None:
        """Wait (bounded) until the DOM of the active tab stops changing."""
        page = self._active
        if page is None or page.is_closed():
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                page.evaluate(QUIET_JS, QUIET_CAP_S * 1000), timeout=QUIET_CAP_S + 1
            )

    async def observe(self) -> Observation:
        """A structured observation of the active tab."""
        page = await self.ensure_page()
        elements: list[Element] = []
        texts: list[str] = []
        modal = None
        scroll: dict[str, float] = {}
        deadline = time.monotonic() + self.settings.browser_timeout_s
        self._now = {}
        for index, frame in enumerate(page.frames):
            if frame.is_detached() or frame.url.startswith("chrome-error:"):
                continue
            if index > 0 and not _readable_subframe(frame.url):
                continue  # a blocked load (file:, an empty URL) never answers an evaluate
            result = await self._observe_frame(frame, deadline)
            if result is None:
                continue
            self._next_id = max(self._next_id, int(result["next"]))
            for raw in result["elements"]:
                element = Element(**raw, frame=index)
                self._frame_of[element.id] = frame
                if element.name:
                    self._was[element.id] = (element.role, element.name)
                    self._now.setdefault((element.role, element.name), []).append(element.id)
                elements.append(element)
            if index == 0:
                texts.append(result["text"])
                modal = result["modal"]
                scroll = {k: float(result[k]) for k in ("scroll_y", "view_h", "page_h")}
            elif result["text"].strip():
                texts.append(f"[frame {index}: {frame.name or frame.url}]\n{result['text']}")
        self._ids = [e.id for e in elements]
        tabs = []
        for i, p in enumerate(self.pages):
            title = ""
            with contextlib.suppress(Exception):
                title = await p.title()
            tabs.append(Tab(index=i, title=title, url=p.url, active=p is page))
        title = next((t.title for t in tabs if t.active), "")
        notices, self._notices = self._notices, []
        self._blocked_hosts.clear()
        return Observation(
            url=page.url,
            title=title,
            tabs=tabs,
            elements=elements,
            text="\n\n".join(texts),
            notices=notices,
            modal=modal,
            **scroll,
        )

    async def _observe_frame(self, frame: Frame, deadline: float) -> dict[str, Any] | None:
        for attempt in range(3):
            left = deadline - time.monotonic()
            if left <= 0:
                log.debug("observation of %s skipped: past the deadline", frame.url)
                return None
            try:
                raw: str = await asyncio.wait_for(
                    frame.evaluate(OBSERVE_JS, {"start": self._next_id}), min(left, 5.0)
                )
                result: dict[str, Any] = json.loads(raw)
                return result
            except Exception as exc:
                if attempt == 2 or frame.is_detached():
                    log.debug("observation of %s failed: %s", frame.url, exc)
                    return None
                with contextlib.suppress(Exception):
                    await frame.wait_for_load_state("domcontentloaded", timeout=2000)
        return None

    async def full_text(self) -> str:
        """The readable text of the active tab, frames included, without a budget."""
        return (await self.read()).text

    async def read(self) -> Observation:
        """A settled observation for reading (its notices are kept for the next one)."""
        async with self._lock:
            await self.ensure_page()
            await self.settle()
            observation = await self.observe_ready()
        self._notices = observation.notices + self._notices
        return observation

    async def download(self, trigger: Callable[[], Awaitable[Any]], target: Path | None) -> Path:
        """Run ``trigger`` and save the download it starts (to ``target`` or downloads/)."""
        page = await self.ensure_page()
        self._expect_download = True
        try:
            async with page.expect_download() as info:
                await trigger()
            download = await info.value
        finally:
            self._expect_download = False
        return await self._save_download(download, target)


def _readable_subframe(url: str) -> bool:
    """Whether a subframe's document may be read: web pages, data: and about: documents;
    not one whose load was refused (``file:``, or no URL at all)."""
    return url.split(":", 1)[0].lower() in ("http", "https", "data", "about", "blob")


def _free_name(folder: Path, suggested: str) -> Path:
    name = re.sub(r"[^\w.\- ]+", "_", Path(suggested or "download").name).strip(". ") or "download"
    name = name[:150]
    target = folder / name
    stem, suffix = target.stem, target.suffix
    counter = 1
    while target.exists():
        target = folder / f"{stem}-{counter}{suffix}"
        counter += 1
    return target
