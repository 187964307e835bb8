"""The scripts the browser tools run in a page: what an element is, where a click on it
leads, what a submit would leave unsent, when the page has settled."""

# A link or form whose target names another browsing context opens a tab: wait for it.
OPENS_TAB_JS = """e => {
  const host = e.closest('a[href], area[href], form') || (e.form || null);
  const t = ((host && host.target) || '').toLowerCase();
  return t !== '' && !['_self', '_parent', '_top'].includes(t);
}"""

# Where a click on the element leads, when it is (in) a link.
LINK_JS = """e => { const a = e.closest('a[href], area[href]'); return a ? a.href : null; }"""

# What a submit would leave unsent: the form's fields that fail the browser's own checks
# (a required box left empty, an e-mail without @). The browser then shows a bubble no
# observation lists and sends nothing; a small model clicked Login again and again.
UNSENT_JS = """(e, submitter) => {
  const form = e.form || e.closest('form');
  if (!form || form.noValidate) return [];
  const tag = e.tagName.toLowerCase(), t = (e.type || '').toLowerCase();
  const submits = (tag === 'button' && (t === '' || t === 'submit'))
    || (tag === 'input' && (t === 'submit' || t === 'image'));
  if (submitter ? (!submits || e.formNoValidate) : tag === 'textarea') return [];
  return Array.from(form.elements).filter(f => f.willValidate && !f.checkValidity())
    .slice(0, 5).map(f => {
      const id = f.getAttribute('data-jm-id');
      const label = f.labels && f.labels.length ? f.labels[0].textContent : '';
      const name = (f.getAttribute('aria-label') || label || f.placeholder || f.name || f.type)
        .replace(/\\s+/g, ' ').trim();
      return (id ? '[' + id + '] ' : '') + JSON.stringify(name) + ': ' + f.validationMessage.replace(/[.]$/, '');
    });
}"""

DESCRIBE_JS = """e => {
  const tag = e.tagName.toLowerCase();
  const type = (e.getAttribute('type') || '').toLowerCase();
  const role = e.getAttribute('role') || (tag === 'a' ? 'link' : tag === 'select' ? 'combobox'
    : tag === 'textarea' ? 'textbox' : tag === 'input' ? (['checkbox', 'radio'].includes(type)
    ? type : ['button', 'submit', 'reset'].includes(type) ? 'button' : 'textbox') : tag);
  let label = e.getAttribute('aria-label');
  if (!label && e.labels && e.labels[0]) {  // the label's own words, not the control's
    const c = e.labels[0].cloneNode(true);
    c.querySelectorAll('select, input, textarea').forEach(x => x.remove());
    label = c.textContent;
  }
  label = label || (tag === 'select' ? '' : e.innerText) || e.value
    || e.getAttribute('placeholder') || e.getAttribute('title') || '';
  return role + ' "' + label.trim().replace(/\\s+/g, ' ').slice(0, 80) + '"';
}"""

# the element's centre is covered by a <label> whose control it is (scrolled into view first)
UNDER_OWN_LABEL_JS = """e => { e.scrollIntoView({block: 'center', inline: 'center'});
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
  if (!hit || hit === e || e.contains(hit)) return false;
  const label = hit.closest('label');
  return !!label && label.control === e; }"""

# a checkbox or radio button the page shows only by its label (the box itself has no size)
DRAWN_BY_LABEL_JS = """e => ['checkbox', 'radio'].includes((e.type || '').toLowerCase())
  && Array.from(e.labels || []).some(l => l.getClientRects().length > 0
    && getComputedStyle(l).visibility === 'visible')"""

# a text field: an <input> that takes text, a <textarea>, or an editable element
TYPEABLE_JS = """e => e.isContentEditable || e.tagName === 'TEXTAREA' || (e.tagName === 'INPUT' &&
  !['button', 'submit', 'reset', 'checkbox', 'radio', 'file', 'image', 'hidden', 'range',
    'color'].includes((e.type || '').toLowerCase())) ||
  ['textbox', 'searchbox', 'combobox', 'spinbutton'].includes(e.getAttribute('role'))"""

OPTIONS_JS = (
    "e => e.tagName === 'SELECT' ? "
    "Array.from(e.options).map(o => ({label: o.label, value: o.value})) : null"
)

_CONTROLS = (
    "a[href],button,input:not([type=hidden]),select,textarea,[role=button],[role=link],"
    "[role=checkbox],[role=textbox],[onclick],[contenteditable=true]"
)

# Resolves when the DOM has been quiet for a while: 300 ms once controls are visible,
# 800 ms while none are (a script may render them a little after load), or at the cap.
QUIET_JS = """(cap) => new Promise((resolve) => {
  const start = performance.now(); let last = start;
  const seen = () => [...document.querySelectorAll(SEL)].some(
    (e) => e.getClientRects().length > 0);
  let obs = null;
  try {
    obs = new MutationObserver(() => { last = performance.now(); });
    obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  } catch (e) {}
  const tick = () => {
    const now = performance.now();
    const quiet = now - last;
    if (now - start >= cap || quiet >= (seen() ? 300 : 800)) {
      if (obs) obs.disconnect();
      resolve(now - start);
    } else setTimeout(tick, 50);
  };
  tick();
})""".replace("SEL", repr(_CONTROLS))

VISIBLE_CONTROLS_JS = (
    "() => [...document.querySelectorAll(SEL)].some((e) => e.getClientRects().length > 0)"
).replace("SEL", repr(_CONTROLS))
