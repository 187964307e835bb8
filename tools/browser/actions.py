"""The browser tools. Each acts on the active tab and answers with a fresh observation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tools.browser.page_js import (
    DESCRIBE_JS,
    LINK_JS,
    OPENS_TAB_JS,
    OPTIONS_JS,
    TYPEABLE_JS,
    UNDER_OWN_LABEL_JS,
    UNSENT_JS,
)
from tools.browser.session import BrowserSession
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import Tool, tool
from tools.result import ToolResult

READ_ELEMENTS = 40  # elements listed by browser_read (the observation budgets its own)
ElementId = Field(description="Element id from the latest observation, e.g. 12 for [12].")


ACTED_ON = "[acted on "
"""The first line of an element action's output: what the element was, read before acting
(the observation after it may no longer show it), so every action says what it was on."""


async def run_action(
    ctx: ToolContext,
    action: Callable[[BrowserSession], Awaitable[Any]],
    element_id: int | None = None,
) -> ToolResult:
    """Run an action on the session and return the observation after it (for an action on
    an element, after a line naming the element as it was)."""
    session = await ctx.browser()
    acted = ""
    if element_id is not None:
        from playwright.async_api import Error as PlaywrightError

        with contextlib.suppress(ToolError, PlaywrightError):  # the action says why
            loc = await session.locate(element_id)
            acted = f"{ACTED_ON}[{element_id}] {await loc.evaluate(DESCRIBE_JS)}]\n"
    observation, error = await session.act(lambda: action(session))
    text, cut = observation.render(ctx.settings.observation_budget_chars)
    text = acted + text
    return ToolResult(
        output=text,
        error=error,
        truncated_chars=cut,
        data=observation.data(),
    )


# ---------------------------------------------------------------- argument models


class GotoArgs(BaseModel):
    url: str = Field(description="Absolute http(s) URL to open in the active tab.")


class ClickArgs(BaseModel):
    element_id: int = ElementId
    double: bool = Field(default=False, description="Double-click instead of a single click.")


class TypeArgs(BaseModel):
    element_id: int = ElementId
    text: str = Field(description="Text to enter (dates as YYYY-MM-DD).")
    submit: bool = Field(default=False, description="Press Enter afterwards.")
    clear: bool = Field(default=True, description="Replace the current value (else append).")


class SelectArgs(BaseModel):
    element_id: int = ElementId
    options: list[str] = Field(
        min_length=1, description="Option labels (or values) to select; several for multi-selects."
    )


class CheckArgs(BaseModel):
    element_id: int = ElementId
    checked: bool = Field(default=True, description="true to check, false to uncheck.")


class PressArgs(BaseModel):
    keys: str = Field(
        description="Keys separated by spaces, e.g. 'Enter', 'Control+A Backspace', 'Tab'."
    )
    element_id: int | None = Field(default=None, description="Focus this element first.")


class ScrollArgs(BaseModel):
    direction: Literal["down", "up", "top", "bottom"] = Field(
        default="down", description="down/up by screens, or jump to the top/bottom."
    )
    screens: float = Field(default=1.0, gt=0, le=20, description="How many screen heights.")
    element_id: int | None = Field(
        default=None, description="Scroll this element into view instead."
    )


class NoArgs(BaseModel):
    pass


class TabNewArgs(BaseModel):
    url: str | None = Field(default=None, description="URL to open in the new tab.")


class TabArgs(BaseModel):
    index: int = Field(ge=0, description="Tab index as listed under Tabs.")


class TabCloseArgs(BaseModel):
    index: int | None = Field(
        default=None, ge=0, description="Tab to close; default the active one."
    )


class WaitArgs(BaseModel):
    text: str | None = Field(default=None, description="Wait until this text is visible.")
    selector: str | None = Field(
        default=None,
        description="Wait until this CSS selector is visible (with text: one that holds it).",
    )
    seconds: float | None = Field(default=None, gt=0, le=60, description="Just wait this long.")
    timeout_s: float | None = Field(
        default=None, gt=0, le=120, description="Give up on text or selector after this long."
    )

    @model_validator(mode="after")
    def _one(self) -> WaitArgs:
        # text and selector together mean "an element matching selector that holds text",
        # the obvious intent (the 1.5B model sends both; refusing them looped)
        if (self.seconds is None) == (self.text is None and self.selector is None):
            raise ValueError("give seconds, or text and/or selector (not both kinds)")
        return self


class ReadArgs(BaseModel):
    offset: int = Field(default=0, ge=0, description="Character offset to continue reading from.")


class ScreenshotArgs(BaseModel):
    full_page: bool = Field(default=False, description="Capture the whole page, not the viewport.")
    element_id: int | None = Field(default=None, description="Capture only this element.")


class UploadArgs(BaseModel):
    element_id: int = Field(description="A file input, or a button that opens a file chooser.")
    paths: list[str] = Field(min_length=1, description="Workspace paths of the files to upload.")


class DownloadArgs(BaseModel):
    element_id: int | None = Field(default=None, description="Link or button that starts it.")
    url: str | None = Field(default=None, description="Or the URL of the file.")
    save_as: str | None = Field(
        default=None, description="Workspace path to save to; default downloads/<file name>."
    )

    @model_validator(mode="after")
    def _one(self) -> DownloadArgs:
        if (self.element_id is None) == (self.url is None):
            raise ValueError("give exactly one of element_id or url")
        return self


# ---------------------------------------------------------------- navigation


@tool(name="browser_goto", group="browser", read_only=True)
async def browser_goto(ctx: ToolContext, args: GotoArgs) -> ToolResult:
    """Open a URL in the active tab and observe the page."""
    url = args.url.strip()
    if "://" not in url and not url.startswith(("about:", "data:")):
        url = "http://" + url

    async def go(s: BrowserSession) -> None:
        reason = s.allowlist.check(url)
        if reason:
            raise ToolError(f"refused to open {url}: {reason}")
        try:
            await s.page.goto(url, wait_until="load")
        except Exception as exc:
            if "Download is starting" not in str(exc):
                raise
            s.note("the URL started a download instead of opening a page")

    return await run_action(ctx, go)


@tool(name="browser_back", group="browser", read_only=True)
async def browser_back(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """Go back one page in the active tab's history."""

    async def back(s: BrowserSession) -> None:
        if await s.page.go_back(wait_until="load") is None and s.page.url == "about:blank":
            raise ToolError("there is no previous page")

    return await run_action(ctx, back)


@tool(name="browser_forward", group="browser", read_only=True)
async def browser_forward(ctx: ToolContext, args: NoArgs) -> ToolResult:
    """Go forward one page in the active tab's history."""

    async def forward(s: BrowserSession) -> None:
        await s.page.go_forward(wait_until="load")

    return await run_action(ctx, forward)


# ---------------------------------------------------------------- element actions


@tool(name="browser_click", group="browser", read_only=False)
async def browser_click(ctx: ToolContext, args: ClickArgs) -> ToolResult:
    """Click an element (link, button, checkbox, tab...) by its id."""

    async def click(s: BrowserSession) -> None:
        loc = await s.locate(args.element_id)
        await s.require_enabled(loc, args.element_id)
        if refused := s.allowlist.link_refusal(await loc.evaluate(LINK_JS), args.element_id):
            raise ToolError(refused)
        _note_unsent(s, await loc.evaluate(UNSENT_JS, True))
        if args.double:
            await loc.dblclick()
            return
        if not await s.require_shown(loc, args.element_id):
            await loc.dispatch_event("click")  # what a click on its label does
            return
        opens_tab = await loc.evaluate(OPENS_TAB_JS)
        if opens_tab:
            await s.expecting_tab(loc.click)
        elif await loc.evaluate(UNDER_OWN_LABEL_JS):
            # a box drawn under its own label (styled forms): the label takes the click
            # and ticks its box, as a person's click does; Playwright would wait its timeout
            await loc.click(force=True)
        else:
            await loc.click()

    return await run_action(ctx, click, args.element_id)


@tool(name="browser_type", group="browser", read_only=False)
async def browser_type(ctx: ToolContext, args: TypeArgs) -> ToolResult:
    """Type text into a text field, text area or date field; optionally press Enter."""

    async def type_(s: BrowserSession) -> None:
        loc = await s.locate(args.element_id)
        tag = await loc.evaluate("e => e.tagName.toLowerCase()")
        if tag == "select":  # as typing into a focused select box does: choose that option
            index = _option_index(await loc.evaluate(OPTIONS_JS), args.text, args.element_id)
            await loc.select_option(index=index)
            s.note(f"[{args.element_id}] is a select box: typing chose its option {args.text!r}")
            return
        if not await loc.evaluate(TYPEABLE_JS):
            fields = ", ".join(f"[{i}] {n!r}" for i, n in s.shown("textbox")[:6]) or "none shown"
            raise ToolError(
                f"[{args.element_id}] takes no typing (it is not a text field); the text fields "
                f"of the latest observation: {fields}"
            )
        await s.require_enabled(loc, args.element_id)
        if args.clear:
            await loc.fill(args.text)
        else:
            await loc.press_sequentially(args.text)
        if args.submit:
            _note_unsent(s, await loc.evaluate(UNSENT_JS, False))
            await loc.press("Enter")

    return await run_action(ctx, type_, args.element_id)


def _note_unsent(s: BrowserSession, fields: list[str]) -> None:
    if fields:
        s.note(
            "the form was not sent: the browser refused it for "
            + "; ".join(fields)
            + ". Fill in those fields, then send it again."
        )


def _option_index(available: list[dict[str, str]], wanted: str, element_id: int) -> int:
    """The option whose visible label (or else value) is ``wanted``, case aside."""
    key = wanted.strip().casefold()
    for field in ("label", "value"):
        match = next(
            (i for i, o in enumerate(available) if o[field].strip().casefold() == key), None
        )
        if match is not None:
            return match
    labels = ", ".join(repr(o["label"]) for o in available[:30])
    raise ToolError(f"no option {wanted!r} in [{element_id}]; options: {labels}")


@tool(name="browser_select", group="browser", read_only=False)
async def browser_select(ctx: ToolContext, args: SelectArgs) -> ToolResult:
    """Choose option(s) of a select box by their visible label (or value)."""

    async def select(s: BrowserSession) -> None:
        loc = await s.locate(args.element_id)
        available = await loc.evaluate(OPTIONS_JS)
        if available is None:
            raise ToolError(f"[{args.element_id}] is not a select box; click it to open it instead")
        indexes = [_option_index(available, wanted, args.element_id) for wanted in args.options]
        await loc.select_option(index=indexes)

    return await run_action(ctx, select, args.element_id)


@tool(name="browser_check", group="browser", read_only=False)
async def browser_check(ctx: ToolContext, args: CheckArgs) -> ToolResult:
    """Check or uncheck a checkbox, or choose a radio button."""

    async def check(s: BrowserSession) -> None:
        loc = await s.locate(args.element_id)
        await loc.set_checked(args.checked)

    return await run_action(ctx, check, args.element_id)


@tool(name="browser_press", group="browser", read_only=False)
async def browser_press(ctx: ToolContext, args: PressArgs) -> ToolResult:
    """Press keys (Enter, Escape, Tab, ArrowDown, Control+A...) in the page or an element."""
    keys = args.keys.split()
    if not keys:
        raise ToolError("no keys given")

    async def press(s: BrowserSession) -> None:
        if args.element_id is not None:
            loc = await s.locate(args.element_id)
            for key in keys:
                await loc.press(key)
        else:
            for key in keys:
                await s.page.keyboard.press(key)

    return await run_action(ctx, press)


@tool(name="browser_scroll", group="browser", read_only=True)
async def browser_scroll(ctx: ToolContext, args: ScrollArgs) -> ToolResult:
    """Scroll the page (by screens, or to top/bottom) or bring an element into view."""

    async def scroll(s: BrowserSession) -> None:
        if args.element_id is not None:
            await (await s.locate(args.element_id)).scroll_into_view_if_needed()
            return
        script = {
            "down": "n => window.scrollBy(0, n * window.innerHeight * 0.9)",
            "up": "n => window.scrollBy(0, -n * window.innerHeight * 0.9)",
            "top": "() => window.scrollTo(0, 0)",
            "bottom": "() => window.scrollTo(0, document.documentElement.scrollHeight)",
        }[args.direction]
        await s.page.evaluate(script, args.screens)

    return await run_action(ctx, scroll)


# ---------------------------------------------------------------- tabs and waiting


@tool(name="browser_tab_new", group="browser", read_only=True)
async def browser_tab_new(ctx: ToolContext, args: TabNewArgs) -> ToolResult:
    """Open a new tab (optionally at a URL) and make it active."""

    async def new(s: BrowserSession) -> None:
        if args.url:
            reason = s.allowlist.check(args.url)
            if reason:
                raise ToolError(f"refused to open {args.url}: {reason}")
        page = await s.new_tab()
        if args.url:
            await page.goto(args.url, wait_until="load")

    return await run_action(ctx, new)


@tool(name="browser_tab_switch", group="browser", read_only=True)
async def browser_tab_switch(ctx: ToolContext, args: TabArgs) -> ToolResult:
    """Make another open tab the active one."""

    async def switch(s: BrowserSession) -> None:
        page = s.switch(args.index)
        await page.bring_to_front()

    return await run_action(ctx, switch)


@tool(name="browser_tab_close", group="browser", read_only=True)
async def browser_tab_close(ctx: ToolContext, args: TabCloseArgs) -> ToolResult:
    """Close a tab (default: the active one); the last remaining tab becomes active."""

    async def close(s: BrowserSession) -> None:
        page = s.page if args.index is None else s.switch(args.index)
        await page.close()
        if s.pages:
            s.switch(len(s.pages) - 1)

    return await run_action(ctx, close)


@tool(name="browser_wait", group="browser", read_only=True)
async def browser_wait(ctx: ToolContext, args: WaitArgs) -> ToolResult:
    """Wait for text or a CSS selector to appear, or for some seconds; then observe."""
    timeout = (args.timeout_s or ctx.settings.browser_timeout_s) * 1000

    async def wait(s: BrowserSession) -> None:
        if args.seconds is not None:
            await asyncio.sleep(args.seconds)
        elif args.text is not None and args.selector is not None:
            found = s.page.locator(args.selector, has_text=args.text).first
            await found.wait_for(state="visible", timeout=timeout)
        elif args.text is not None:
            await s.page.get_by_text(args.text).first.wait_for(state="visible", timeout=timeout)
        elif args.selector is not None:
            await s.page.wait_for_selector(args.selector, state="visible", timeout=timeout)

    return await run_action(ctx, wait)


# ---------------------------------------------------------------- reading and artifacts


@tool(name="browser_read", group="browser", read_only=True)
async def browser_read(ctx: ToolContext, args: ReadArgs) -> ToolResult:
    """Read the page's full text (all frames) from an offset, with its interactive elements."""
    session = await ctx.browser()
    observation = await session.read()
    text = observation.text
    lines = [e.line() for e in observation.elements if not e.above]
    # the ids come with the text: a model that only reads still sees what it can act on
    elements = "\n".join(lines[:READ_ELEMENTS])
    if len(lines) > READ_ELEMENTS:
        elements += f"\n({len(lines) - READ_ELEMENTS} more elements: scroll to see them)"
    listing = f"Interactive elements:\n{elements}\n" if lines else "Interactive elements: none\n"
    budget = max(ctx.settings.output_budget_chars - 200 - len(listing), 100)
    if args.offset >= len(text) and text:
        raise ToolError(f"offset {args.offset} is past the end ({len(text)} characters)")
    end = min(args.offset + budget, len(text))
    chunk = text[args.offset : end]
    more = f"\n[continue with offset={end}]" if end < len(text) else ""
    header = f"URL: {session.page.url}\n{listing}[characters {args.offset}-{end} of {len(text)}]\n"
    return ToolResult(
        output=header + chunk + more,
        data={"text": text, "elements": observation.data()["elements"]},
    )


@tool(name="browser_screenshot", group="browser", read_only=True)
async def browser_screenshot(ctx: ToolContext, args: ScreenshotArgs) -> ToolResult:
    """Save a PNG screenshot of the page or an element as an artifact."""
    folder = ctx.artifacts_dir
    index = len(list(folder.glob("screenshot-*.png"))) + 1
    target = folder / f"screenshot-{index:03d}.png"
    while target.exists():
        index += 1
        target = folder / f"screenshot-{index:03d}.png"
    try:
        shown = str(target.relative_to(ctx.workspace))
    except ValueError:
        shown = str(target)

    async def shoot(s: BrowserSession) -> None:
        if args.element_id is not None:
            await (await s.locate(args.element_id)).screenshot(path=target)
        else:
            await s.page.screenshot(path=target, full_page=args.full_page)
        s.note(f"screenshot saved to {shown}")

    result = await run_action(ctx, shoot)
    if result.error is None:
        result.artifacts.append(shown)
    return result


@tool(name="browser_upload", group="browser", read_only=False)
async def browser_upload(ctx: ToolContext, args: UploadArgs) -> ToolResult:
    """Attach workspace files to a file input (or the chooser a button opens)."""
    files = []
    for path in args.paths:
        real = ctx.sandbox.resolve(path)
        if not real.is_file():
            raise ToolError(f"{path!r} is not a file in the workspace")
        files.append(real)

    async def upload(s: BrowserSession) -> None:
        loc = await s.locate(args.element_id)
        is_file_input = await loc.evaluate(
            "e => e.tagName === 'INPUT' && e.type.toLowerCase() === 'file'"
        )
        if is_file_input:
            await loc.set_input_files(files)
            return
        async with s.page.expect_file_chooser() as chooser_info:
            await loc.click()
        chooser = await chooser_info.value
        await chooser.set_files(files)

    return await run_action(ctx, upload)


@tool(name="browser_download", group="browser", read_only=False)
async def browser_download(ctx: ToolContext, args: DownloadArgs) -> ToolResult:
    """Download a file (by clicking an element, or from a URL) into the workspace."""
    target = ctx.sandbox.resolve(args.save_as, allow_root=False) if args.save_as else None
    saved: list[str] = []

    async def download(s: BrowserSession) -> None:
        if args.element_id is not None:
            loc = await s.locate(args.element_id)
            trigger: Callable[[], Awaitable[Any]] = loc.click
        else:
            url = args.url or ""
            reason = s.allowlist.check(url)
            if reason:
                raise ToolError(f"refused to download {url}: {reason}")

            async def trigger() -> None:
                await s.page.evaluate(
                    "u => { const a = document.createElement('a'); a.href = u; a.download = '';"
                    " document.body.appendChild(a); a.click(); a.remove(); }",
                    url,
                )

        path = await s.download(trigger, target)
        saved.append(ctx.sandbox.rel(path))

    result = await run_action(ctx, download)
    result.artifacts.extend(saved)
    return result


BROWSER_TOOLS: list[Tool] = [
    browser_goto,
    browser_click,
    browser_type,
    browser_select,
    browser_check,
    browser_press,
    browser_scroll,
    browser_back,
    browser_forward,
    browser_tab_new,
    browser_tab_switch,
    browser_tab_close,
    browser_wait,
    browser_read,
    browser_screenshot,
    browser_upload,
    browser_download,
]
