"""Pages are observed when they are ready: controls a script renders after ``load`` are seen.

A real Chromium on a page served on 127.0.0.1 that adds its form 500 ms after load (the
failure of issue 16: "Interactive elements: none", then a dozen blind reads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from browser_site import serve

from tools import ToolContext, ToolSettings, default_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")
REG = default_registry(enabled=("browser",))

LATE = b"""<!doctype html><title>Late</title><body><p>Loading...</p><script>
setTimeout(() => {
  document.body.innerHTML = '<h1>Order</h1><input id=q aria-label="Quantity">' +
    '<button onclick="document.title=\\'sent \\'+q.value">Send order</button>';
}, 500);
</script></body>"""
TEXT = b"<!doctype html><title>Plain</title><body><p>Nothing to do here.</p></body>"


def app(environ: dict[str, Any], start: Any) -> Iterable[bytes]:
    body = LATE if environ["PATH_INFO"] == "/late" else TEXT
    start("200 OK", [("Content-Type", "text/html")])
    return [body]


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve(app) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bctx(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ToolContext]:
    settings = ToolSettings(allowed_hosts=["127.0.0.1"], browser_timeout_s=5)
    async with ToolContext(tmp_path_factory.mktemp("ws"), settings) as ctx:
        yield ctx


async def test_controls_rendered_after_load_are_observed(bctx: ToolContext, base: str) -> None:
    res = await REG.call("browser_goto", {"url": base + "/late"}, bctx)
    assert res.error is None
    names = [e["name"] for e in res.data["elements"]]
    assert "Send order" in names and "Quantity" in names, res.output
    assert "Interactive elements: none" not in res.output


async def test_browser_read_lists_elements_with_ids(bctx: ToolContext, base: str) -> None:
    await REG.call("browser_goto", {"url": base + "/late"}, bctx)
    res = await REG.call("browser_read", {}, bctx)
    assert res.error is None
    send = next(e for e in res.data["elements"] if e["name"] == "Send order")
    assert f'[{send["id"]}] button "Send order"' in res.output
    qty = next(e for e in res.data["elements"] if e["name"] == "Quantity")
    await REG.call("browser_type", {"element_id": qty["id"], "text": "3"}, bctx)
    done = await REG.call("browser_click", {"element_id": send["id"]}, bctx)
    assert "Title: sent 3" in done.output


async def test_a_page_without_controls_says_so(bctx: ToolContext, base: str) -> None:
    res = await REG.call("browser_goto", {"url": base + "/plain"}, bctx)
    assert "Interactive elements: none" in res.output
    assert "Nothing to do here." in res.output
