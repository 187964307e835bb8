"""``browser_fill``: set a form's fields by their labels, then press its button, in one call.

A small model finds a field's id among a hundred elements, unfolds the section that holds
it, types into the wrong box and forgets to save: the 1.5B model never got a Trac ticket's
component changed in the learning curve (it typed the value into the Summary box, or into
the Search box). Naming the fields as the goal does ("Component": "infrastructure") and the
button ("Submit changes") is what it can do; the tool finds each field by its label, shows a
folded one by clicking the control that opens it, sets it the way its kind needs (a select
box's option by its label, a box ticked or not, a text typed), then presses the button.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from tools.browser.actions import ACTED_ON, run_action
from tools.browser.observation import Element
from tools.browser.session import BrowserSession
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import Tool, tool
from tools.result import ToolResult

# The form fields of the page (its main frame only), each stamped with a key
# and named as a person reads it: its label's words, else aria-label, placeholder, title, name.
_FIELDS_JS = """() => {
  const out = [];
  const nameOf = (f) => {
    let label = f.getAttribute('aria-label') || '';
    if (!label && f.labels && f.labels.length) {
      const c = f.labels[0].cloneNode(true);
      c.querySelectorAll('select, input, textarea').forEach(x => x.remove());
      label = c.textContent;
    }
    if (!label && (f.type === 'radio')) {
      const set = f.closest('fieldset'); const legend = set && set.querySelector('legend');
      label = legend ? legend.textContent : '';
    }
    return (label || f.getAttribute('placeholder') || f.getAttribute('title')
      || f.getAttribute('name') || '').replace(/\\s+/g, ' ').trim();
  };
  const group = (f) => {  // a radio button's group: its fieldset's legend, else its name
    const set = f.closest('fieldset'); const legend = set && set.querySelector('legend');
    return ((legend && legend.textContent) || f.getAttribute('name') || '').replace(/\\s+/g, ' ').trim();
  };
  const sel = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])" +
    ":not([type=image]):not([type=file]),select,textarea,[contenteditable=true]";
  document.querySelectorAll(sel).forEach((f, i) => {
    f.setAttribute('data-jm-fill', String(i));
    const type = (f.type || '').toLowerCase();
    out.push({key: String(i), name: nameOf(f), tag: f.tagName.toLowerCase(), type,
      group: type === 'radio' ? group(f) : '', shown: f.getClientRects().length > 0
        && getComputedStyle(f).visibility === 'visible',
      options: f.tagName === 'SELECT' ? Array.from(f.options).map(o => o.label.trim()) : []});
  });
  return out;
}"""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(":*").strip().lower()


def _pick(want: str, names: list[str]) -> list[int]:
    """Indexes of ``names`` that ``want`` names: the same words, else the only ones that
    start with them, else the only ones that contain them."""
    w = _norm(want)
    for test in (lambda n: n == w, lambda n: n.startswith(w), lambda n: w in n):
        hits = [i for i, n in enumerate(names) if n and test(_norm(n))]
        if hits:
            return hits
    return []


_YES = {"yes", "true", "on", "checked", "tick", "ticked", "check", "1", "x"}
_NO = {"no", "false", "off", "unchecked", "untick", "unticked", "uncheck", "0", ""}


class FillArgs(BaseModel):
    fields: dict[str, str] = Field(
        description='Each field\'s label and the value to give it, e.g. {"Component": '
        '"infrastructure", "Comment": "Duplicate of #2"}. A checkbox takes yes or no; a '
        "select box or a group of radio buttons, the option's label."
    )
    submit: str = Field(
        default="",
        description="The name of the button to press after filling, e.g. 'Submit changes' "
        "or 'Save'; empty presses none.",
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        if isinstance(value, dict) and {"value"} < set(value) <= {
            "label",
            "name",
            "field",
            "value",
        }:
            # one field written as {"label": "Username", "value": "alex"} (the 1.5B model did)
            value = {value.get("label") or value.get("name") or value.get("field"): value["value"]}
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    @field_validator("fields")
    @classmethod
    def _some(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("give at least one field: {label: value}")
        return value


async def _opener(s: BrowserSession, label: str) -> Element | None:
    """The control the page offers to show the folded field ``label`` (its hidden fields)."""
    seen = await s.observe()
    for e in seen.elements:
        if e.opens and _pick(label, list(e.opens_names)):
            return e
    return None


async def _fill(s: BrowserSession, args: FillArgs) -> list[str]:
    page = await s.ensure_page()
    done: list[str] = []
    for label, value in args.fields.items():
        fields = await page.evaluate(_FIELDS_JS)
        radios = [f for f in fields if f["type"] == "radio"]
        by_group = _pick(label, [f["group"] for f in radios])
        if by_group:  # a group of radio buttons: the one whose label is the value
            group = [radios[i] for i in by_group]
            choice = _pick(value, [f["name"] for f in group])
            if not choice:
                raise ToolError(
                    f"{label!r} offers {', '.join(repr(f['name']) for f in group)}, not {value!r}"
                )
            field = group[choice[0]]
        else:
            hits = _pick(label, [f["name"] for f in fields])
            if not hits:
                names = ", ".join(dict.fromkeys(repr(f["name"]) for f in fields if f["name"]))
                raise ToolError(
                    f"no field {label!r} on this page; its fields: {names[:600] or 'none'}"
                )
            field = next((fields[i] for i in hits if fields[i]["shown"]), fields[hits[0]])
        if not field["shown"]:
            opener = await _opener(s, field["name"])
            if opener is None:
                raise ToolError(f"the field {field['name']!r} is hidden, and nothing shows it")
            await (await s.locate(opener.id)).click()
            done.append(f"clicked [{opener.id}] {opener.role} {opener.name!r} to show it")
            await s.settle()
        loc = page.locator(f'[data-jm-fill="{field["key"]}"]').first
        shown = f"{field['name']!r}"
        if not await loc.is_enabled():
            raise ToolError(
                f"the field {shown} is disabled: the page enables it after another step"
            )
        if field["tag"] == "select":
            choice = _pick(value, field["options"])
            if not choice:
                offered = ", ".join(repr(o) for o in field["options"][:25])
                raise ToolError(f"the select box {shown} offers {offered}, not {value!r}")
            await loc.select_option(index=choice[0])
            done.append(f"{shown} = {field['options'][choice[0]]!r}")
        elif field["type"] == "radio":
            await loc.check()
            done.append(f"{label!r} = {field['name']!r}")
        elif field["type"] == "checkbox":
            if value.strip().lower() not in _YES | _NO:
                raise ToolError(f"{shown} is a checkbox: give yes or no, not {value!r}")
            await loc.set_checked(value.strip().lower() in _YES, force=True)
            done.append(f"{shown} {'ticked' if value.strip().lower() in _YES else 'unticked'}")
        else:
            await loc.fill(value)
            done.append(f"{shown} = {value!r}")
    return done


async def _press(s: BrowserSession, name: str) -> str:
    seen = await s.observe()
    # a button of that name, else a link or menu item of exactly that name
    buttons = [e for e in seen.elements if e.role == "button" and e.name]
    pool = buttons + [
        e for e in seen.elements if e.role in ("link", "menuitem") and _norm(e.name) == _norm(name)
    ]
    hits = _pick(name, [e.name for e in pool])
    if not hits:
        names = ", ".join(repr(e.name) for e in buttons)
        raise ToolError(f"no button {name!r} on this page; its buttons: {names[:600] or 'none'}")
    button = pool[hits[0]]
    loc = await s.locate(button.id)
    await s.require_enabled(loc, button.id)
    await loc.click()
    return f'{ACTED_ON}[{button.id}] {button.role} "{button.name}"]'


@tool(name="browser_fill", group="browser", read_only=False)
async def browser_fill(ctx: ToolContext, args: FillArgs) -> ToolResult:
    """Fill form fields by their labels, then press a button by its name (optional): one
    call for a form, e.g. fields {"Component": "frontend"}, submit "Submit changes"."""
    said: list[str] = []

    async def fill(s: BrowserSession) -> None:
        said.extend(await _fill(s, args))
        if args.submit.strip():
            said.insert(0, await _press(s, args.submit))

    result = await run_action(ctx, fill)
    lines = [said[0]] if said and said[0].startswith(ACTED_ON) else []
    filled = [x for x in said if not x.startswith(ACTED_ON)]
    if filled:
        lines.append("[filled: " + "; ".join(filled) + "]")
    result.output = "\n".join([*lines, result.output])
    return result


FORM_TOOLS: list[Tool] = [browser_fill]
