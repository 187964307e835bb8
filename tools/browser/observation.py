"""What the model sees of a page: interactive elements with stable ids, and readable text.

A script run in every frame stamps each visible interactive element with a
``data-jm-id`` attribute the first time it is seen, so an unchanged page keeps its ids
from one observation to the next and ids are never reused within a session.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

ID_ATTR = "data-jm-id"

# Runs in the page. Argument: {start: first free id}. Returns elements, text and scroll
# state as one JSON string: Playwright's own value serialisation is ~30x slower for 5,000
# elements.
OBSERVE_JS = r"""
(args) => JSON.stringify(((args) => {
  const ATTR = "data-jm-id";
  let next = args.start;
  const SEL = [
    "a[href]", "button", "input", "select", "textarea", "summary",
    "[role=button]", "[role=link]", "[role=checkbox]", "[role=radio]", "[role=tab]",
    "[role=menuitem]", "[role=menuitemcheckbox]", "[role=menuitemradio]", "[role=option]",
    "[role=switch]", "[role=combobox]", "[role=textbox]", "[role=searchbox]", "[role=slider]",
    "[role=spinbutton]", "[role=treeitem]", "[contenteditable=''], [contenteditable=true]",
    "[onclick]", "[tabindex]:not([tabindex='-1'])"
  ].join(",");
  const clean = (s, n) => {
    s = (s || "").replace(/\s+/g, " ").trim();
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  };
  const byIds = (ids) => ids.split(/\s+/).map(i => document.getElementById(i))
      .filter(Boolean).map(e => e.textContent).join(" ");
  const roleOf = (el) => {
    const explicit = el.getAttribute("role");
    if (explicit) return explicit.split(" ")[0];
    const tag = el.tagName.toLowerCase();
    if (tag === "a") return "link";
    if (tag === "button" || tag === "summary") return "button";
    if (tag === "select") return el.multiple ? "listbox" : "combobox";
    if (tag === "textarea") return "textbox";
    if (tag === "input") {
      const t = (el.type || "text").toLowerCase();
      if (["button", "submit", "reset", "image"].includes(t)) return "button";
      if (t === "checkbox" || t === "radio") return t;
      if (t === "range") return "slider";
      if (t === "number") return "spinbutton";
      if (t === "search") return "searchbox";
      if (t === "file") return "file";
      if (["text", "email", "password", "tel", "url"].includes(t)) return "textbox";
      return t;  // date, time, color, ...
    }
    if (el.isContentEditable) return "textbox";
    return tag;
  };
  // One pass over the labels: `el.labels` scans the document on every call.
  const labelText = new Map();
  for (const label of document.querySelectorAll("label")) {
    const control = label.control;
    if (control) labelText.set(control, ((labelText.get(control) || "") + " " + label.textContent));
  }
  const nameOf = (el) => {
    const aria = el.getAttribute("aria-label");
    if (aria) return aria;
    const lb = el.getAttribute("aria-labelledby");
    if (lb) { const t = byIds(lb); if (t.trim()) return t; }
    const lt = labelText.get(el);
    if (lt && lt.trim()) return lt;
    const tag = el.tagName.toLowerCase();
    if (tag === "input" && ["button", "submit", "reset"].includes(el.type)) return el.value || el.type;
    if (tag === "input" && el.type === "image") return el.alt || "image button";
    if (!["input", "select", "textarea"].includes(tag)) {
      const t = el.textContent;  // innerText would cost a layout query per element
      if (t && t.trim()) return t;
      const img = el.querySelector("img[alt]");
      if (img) return img.getAttribute("alt");
    }
    return el.getAttribute("title") || el.getAttribute("placeholder") || el.getAttribute("name") || "";
  };
  const unseen = (f) => typeof f.checkVisibility === "function" ? !f.checkVisibility() : !f.getClientRects().length;
  // A control that opens a folded part of the page in place (no navigation): the part
  // named by aria-controls, a <details> of a <summary>, or the section of a heading it
  // sits in. Its hidden form fields are listed, so a model sees what opening it gives.
  const foldOf = (el, tag, role) => {
    const ctl = el.getAttribute("aria-controls");
    if (ctl) return document.getElementById(ctl.split(/\s+/)[0]);
    if (tag === "summary") return el.parentElement;
    if (tag === "a" && !(el.getAttribute("href") || "").startsWith("#")) return null;
    if (role !== "link" && role !== "button") return null;
    const head = el.closest("h1,h2,h3,h4,h5,h6,legend");
    return head ? head.parentElement : null;
  };
  const FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=button])" +
      ":not([type=reset]):not([type=image]),select,textarea";
  const modal = document.querySelector("dialog:modal, [aria-modal=true]");
  const vh = window.innerHeight;
  const active = document.activeElement;
  const out = [];
  const fresh = [];  // stamped after the loop: writing while measuring forces a re-layout each time
  let above = 0;
  for (const el of document.querySelectorAll(SEL)) {
    const tag = el.tagName.toLowerCase();
    if (tag === "input" && el.type === "hidden") continue;
    if (modal && !modal.contains(el)) continue;
    if (el.closest("[inert]")) continue;
    if (typeof el.checkVisibility === "function" ? !el.checkVisibility({visibilityProperty: true}) : !el.getClientRects().length) continue;
    const r = el.getBoundingClientRect();
    const tiny = r.width === 0 && r.height === 0;
    if (tiny && !(tag === "input" && ["file", "checkbox", "radio"].includes(el.type))) continue;
    const id = el.getAttribute(ATTR);
    const role = roleOf(el);
    const e = { id: id ? Number(id) : null, role, name: clean(nameOf(el), 100), tag, state: [] };
    if (!id) fresh.push([el, e]);
    if (tag === "input" || tag === "textarea") {
      const t = (el.type || "").toLowerCase();
      if (!["checkbox", "radio", "button", "submit", "reset", "image", "file"].includes(t)) {
        e.value = t === "password" ? "•".repeat(Math.min(el.value.length, 12)) : clean(el.value, 120);
      }
      if (t === "file" && el.files && el.files.length) e.value = Array.from(el.files).map(f => f.name).join(", ");
      if (el.placeholder) e.placeholder = clean(el.placeholder, 60);
      if (tag === "input") e.type = t;
    } else if (tag === "select") {
      e.value = clean(Array.from(el.selectedOptions).map(o => o.label).join(", "), 120);
      e.options = Array.from(el.options).slice(0, 25).map(o => clean(o.label, 40));
      if (el.options.length > 25) e.options.push(`… ${el.options.length - 25} more`);
    } else if (el.isContentEditable) {
      e.value = clean(el.innerText, 120);
    }
    if (tag === "a") {
      const href = el.getAttribute("href") || "";
      e.href = clean(href, 120);
      if (el.target === "_blank") e.state.push("new tab");
    }
    if (el.checked || el.getAttribute("aria-checked") === "true") e.state.push("checked");
    if (el.disabled || el.getAttribute("aria-disabled") === "true") e.state.push("disabled");
    if (el.required) e.state.push("required");
    if (el.readOnly) e.state.push("readonly");
    if (el.getAttribute("aria-expanded") === "true") e.state.push("expanded");
    if (el.getAttribute("aria-expanded") === "false") e.state.push("collapsed");
    if (el.getAttribute("aria-selected") === "true" || (tag === "option" && el.selected)) e.state.push("selected");
    if (el === active) e.state.push("focused");
    const fold = foldOf(el, tag, role);
    if (fold && fold !== document.body && fold !== document.documentElement) {
      const shut = Array.from(fold.querySelectorAll(FIELDS)).filter(unseen);
      if (shut.length) {
        e.opens = shut.length;
        e.opens_names = shut.slice(0, 10).map(f => clean(nameOf(f), 24)).filter(Boolean);
      }
    }
    e.in_view = r.bottom > 0 && r.top < vh;
    if (r.bottom <= 0) { e.above = true; above++; }
    out.push(e);
  }
  for (const [el, e] of fresh) { e.id = next++; el.setAttribute(ATTR, String(e.id)); }
  const body = document.body;
  let text = body ? body.innerText : (document.documentElement ? document.documentElement.innerText : "");
  if (modal) text = (modal.innerText || "") + "\n\n[behind the dialog]\n" + text;
  const root = document.scrollingElement || document.documentElement;
  return {
    elements: out, next, text: text || "",
    modal: modal ? clean(modal.getAttribute("aria-label") || modal.innerText, 80) : null,
    scroll_y: window.scrollY, view_h: vh, page_h: root ? root.scrollHeight : vh,
  };
})(args))
"""


class Element(BaseModel):
    """One interactive element as the model sees it; ``id`` is what actions take."""

    id: int
    role: str
    name: str = ""
    tag: str = ""
    type: str | None = None
    value: str | None = None
    placeholder: str | None = None
    href: str | None = None
    options: list[str] | None = None
    state: list[str] = Field(default_factory=list)
    opens: int = 0  # hidden form fields that clicking it shows (a folded section)
    opens_names: list[str] = Field(default_factory=list)
    in_view: bool = True
    above: bool = False
    frame: int = 0

    def line(self) -> str:
        """``[12] textbox "Email" value="a@b.c" [required]`` and the like."""
        parts = [f"[{self.id}] {self.role}"]
        if self.name:
            parts.append(f'"{self.name}"')
        if self.value is not None and self.value != "":
            parts.append(f'value="{self.value}"')
        elif self.placeholder:
            parts.append(f"placeholder={self.placeholder!r}")
        if self.options:
            parts.append("options: " + " | ".join(self.options))
        if self.href and not self.href.startswith("javascript:"):
            parts.append(f"-> {self.href}")
        if self.state:
            parts.append("[" + ", ".join(self.state) + "]")
        if self.opens:
            names = ", ".join(self.opens_names) + (
                ", ..." if self.opens > len(self.opens_names) else ""
            )
            parts.append(f"(click to show {self.opens} hidden field(s): {names})")
        if self.frame:
            parts.append(f"(in frame {self.frame})")
        return " ".join(parts)


class Tab(BaseModel):
    index: int
    title: str
    url: str
    active: bool


class Observation(BaseModel):
    """A structured page observation; :meth:`render` turns it into budgeted text."""

    url: str
    title: str
    tabs: list[Tab]
    elements: list[Element]
    text: str
    notices: list[str] = Field(default_factory=list)
    modal: str | None = None
    scroll_y: float = 0
    view_h: float = 0
    page_h: float = 0

    def render(self, budget: int) -> tuple[str, int]:
        """The observation as text of at most ``budget`` characters, and how much was cut."""
        head = [f"URL: {self.url}", f"Title: {self.title}"]
        if len(self.tabs) > 1:
            head.append(
                "Tabs: "
                + "  ".join(
                    f"{'*' if t.active else ''}[{t.index}] {_short(t.title or t.url, 40)}"
                    for t in self.tabs
                )
                + "  (* = active)"
            )
        for notice in self.notices:
            head.append(f"Notice: {notice}")
        if self.modal:
            head.append(f"A modal dialog is open: {self.modal!r}; only its elements are listed.")
        if self.page_h > self.view_h * 1.05 and self.view_h:
            screens = self.page_h / self.view_h
            pos = self.scroll_y / max(self.page_h - self.view_h, 1) * 100
            head.append(f"Scroll: {min(pos, 100):.0f}% down a page {screens:.1f} screens tall")
        header = "\n".join(head)
        header = header[: budget // 3]

        lines = [e.line() for e in self.elements if not e.above]
        above = sum(1 for e in self.elements if e.above)
        text = _squeeze(self.text)
        room = budget - len(header) - 120
        all_lines_len = sum(len(line) + 1 for line in lines)
        element_room = max(int(room * 0.6), room - len(text)) if lines else 0
        element_room = min(element_room, all_lines_len)
        shown: list[str] = []
        used = 0
        for line in lines:
            if used + len(line) + 1 > element_room:
                break
            shown.append(line)
            used += len(line) + 1
        hidden = len(lines) - len(shown)
        cut = sum(len(line) + 1 for line in lines[len(shown) :])
        out = [header, "Interactive elements:" if lines else "Interactive elements: none"]
        if above:
            out.append(f"({above} elements above the viewport; scroll up to see them)")
        out.extend(shown)
        if hidden:
            out.append(f"({hidden} more elements below; scroll down to see them)")
        text_room = budget - sum(len(s) + 1 for s in out) - 60
        if len(text) > text_room:
            cut += len(text) - max(text_room, 0)
            text = text[: max(text_room, 0)] + "\n[... more text: use browser_read]"
        out += ["Page text:", text]
        rendered = "\n".join(out)
        if len(rendered) > budget:
            cut += len(rendered) - budget
            rendered = rendered[:budget]
        return rendered, cut

    def data(self) -> dict[str, Any]:
        """The structured copy put into ``ToolResult.data``."""
        return {
            "url": self.url,
            "title": self.title,
            "tabs": [t.model_dump() for t in self.tabs],
            "elements": [e.model_dump(exclude_none=True) for e in self.elements],
            "notices": list(self.notices),
        }

    def find(self, name: str, role: str | None = None) -> Element | None:
        """The first element whose name contains ``name`` (case-insensitive), for scripts."""
        needle = name.lower()
        for e in self.elements:
            if needle in e.name.lower() and (role is None or e.role == role):
                return e
        return None


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _squeeze(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def missing_element(
    element_id: int,
    url: str,
    ids: list[int],
    named: dict[tuple[str, str], list[int]],
    seen: bool = False,
) -> str:
    """Why no element has this id, with what the latest observation offers instead
    (``seen``: the id was an element of an earlier observation)."""
    if not ids:  # an error page, a file shown as text: small models click 1, 2, 3...
        return (
            f"element [{element_id}] is not on the current page: {url} has no elements to act "
            "on (it failed to load, or it is text only: browser_read shows it); open another "
            "address with browser_goto"
        )
    text = (
        f"element [{element_id}] is not on the current page (the page may have changed): the "
        f"latest observation numbers its elements [{min(ids)}] to [{max(ids)}]"
    )
    # the number of a ticket or an invoice taken for an element's id
    number = re.compile(rf"(?<![\w.]){element_id}(?![\w.])")
    hits = sorted(
        (i, role, name) for (role, name), found in named.items() if number.search(name)
        for i in found
    )  # fmt: skip
    if not seen and 0 < len(hits) <= 3:
        shown = "; ".join(f'[{i}] {role} "{name}"' for i, role, name in hits)
        return f"{text}; {element_id} is in the name of {shown}: use that element's id"
    return f"{text}; use one of those ids"
