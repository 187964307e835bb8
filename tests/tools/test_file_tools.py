"""File tools: reading ranges and office formats, atomic writes, edits, tree, find, grep."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import docx
import openpyxl
from pypdf import PdfWriter

from tools import ToolContext, ToolRegistry


async def test_write_read_ranges_append_edit(registry: ToolRegistry, ctx: ToolContext) -> None:
    text = "".join(f"line {i}\n" for i in range(1, 101))
    res = await registry.call("file_write", {"path": "notes/a.txt", "content": text}, ctx)
    assert res.ok, res.error
    assert (ctx.workspace / "notes/a.txt").read_text() == text
    part = await registry.call(
        "file_read", {"path": "notes/a.txt", "start_line": 10, "end_line": 12}, ctx
    )
    assert part.output.splitlines()[1:] == ["line 10", "line 11", "line 12"]
    assert "lines 10-12" in part.output
    await registry.call("file_append", {"path": "notes/a.txt", "content": "tail\n"}, ctx)
    assert (ctx.workspace / "notes/a.txt").read_text().endswith("line 100\ntail\n")
    dup = await registry.call(
        "file_edit", {"path": "notes/a.txt", "old": "line 1", "new": "x"}, ctx
    )
    assert dup.error and "occurs" in dup.error and "12 times" in dup.error
    ok = await registry.call(
        "file_edit", {"path": "notes/a.txt", "old": "line 100\n", "new": "last\n"}, ctx
    )
    assert ok.ok and "last\ntail\n" in (ctx.workspace / "notes/a.txt").read_text()
    gone = await registry.call("file_edit", {"path": "notes/a.txt", "old": "nope", "new": "x"}, ctx)
    assert gone.error and "not found" in gone.error
    every = await registry.call(
        "file_edit", {"path": "notes/a.txt", "old": "line", "new": "L", "replace_all": True}, ctx
    )
    assert every.ok and "line" not in (ctx.workspace / "notes/a.txt").read_text()
    # no temp files left behind by the atomic writes
    assert sorted(os.listdir(ctx.workspace / "notes")) == ["a.txt"]


async def test_read_respects_output_budget(registry: ToolRegistry, ctx: ToolContext) -> None:
    ctx.settings.output_budget_chars = 1000
    (ctx.workspace / "big.txt").write_text(
        "".join(f"row {i:05d} " + "x" * 40 + "\n" for i in range(5000))
    )
    res = await registry.call("file_read", {"path": "big.txt"}, ctx)
    assert len(res.output) <= 1000
    assert "continue with start_line=" in res.output


async def test_office_formats_as_text(registry: ToolRegistry, ctx: ToolContext) -> None:
    ws = ctx.workspace
    with (ws / "t.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["name", "qty"], ["apple", 3], ["pear, green", 5]])
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.title = "Stock"
    sheet.append(["sku", "count"])
    sheet.append(["A-1", 42])
    wb.save(ws / "s.xlsx")
    d = docx.Document()
    d.add_heading("Quarterly report", level=1)
    d.add_paragraph("Revenue grew.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Q1", "100"
    d.save(str(ws / "r.docx"))
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with (ws / "blank.pdf").open("wb") as fh:
        writer.write(fh)

    out = {
        name: (await registry.call("file_read", {"path": name}, ctx))
        for name in ("t.csv", "s.xlsx", "r.docx", "blank.pdf")
    }
    assert "pear, green | 5" in out["t.csv"].output
    assert "## Sheet: Stock" in out["s.xlsx"].output and "A-1 | 42" in out["s.xlsx"].output
    assert "# Quarterly report" in out["r.docx"].output and "Q1 | 100" in out["r.docx"].output
    assert out["blank.pdf"].ok and "## Page 1" in out["blank.pdf"].output


async def test_pdf_text_is_extracted(registry: ToolRegistry, ctx: ToolContext) -> None:
    # a minimal hand-written PDF with one text object
    content = b"BT /F1 24 Tf 20 100 Td (Invoice 4711 paid) Tj ET"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    (ctx.workspace / "inv.pdf").write_bytes(bytes(pdf))
    res = await registry.call("file_read", {"path": "inv.pdf"}, ctx)
    assert "Invoice 4711 paid" in res.output, res


async def test_deliverables(registry: ToolRegistry, ctx: ToolContext) -> None:
    rows = [["Widget", 3, 1.5], ["Gadget", 1, None]]
    res = await registry.call(
        "file_write_table",
        {
            "path": "out/report.xlsx",
            "rows": rows,
            "header": ["item", "qty", "price"],
            "sheet": "Q3",
        },
        ctx,
    )
    assert res.ok and res.artifacts == ["out/report.xlsx"]
    wb = openpyxl.load_workbook(ctx.workspace / "out/report.xlsx")
    ws = wb["Q3"]
    assert [c.value for c in ws[1]] == ["item", "qty", "price"]
    assert [c.value for c in ws[2]] == ["Widget", 3, 1.5]
    res = await registry.call("file_write_table", {"path": "out/r.csv", "rows": rows}, ctx)
    assert (ctx.workspace / "out/r.csv").read_text().splitlines() == ["Widget,3,1.5", "Gadget,1,"]
    res = await registry.call(
        "file_write_docx",
        {
            "path": "out/memo.docx",
            "title": "Memo",
            "text": "# Summary\nAll good.\n- point one",
            "tables": [[["a", "b"], [1, 2]]],
        },
        ctx,
    )
    assert res.ok
    d = docx.Document(str(ctx.workspace / "out/memo.docx"))
    texts = [p.text for p in d.paragraphs]
    assert texts[:4] == ["Memo", "Summary", "All good.", "point one"]
    assert d.tables[0].rows[1].cells[1].text == "2"
    bad = await registry.call("file_write_table", {"path": "x.txt", "rows": []}, ctx)
    assert bad.error


async def test_list_find_grep_move_copy_delete(registry: ToolRegistry, ctx: ToolContext) -> None:
    ws: Path = ctx.workspace
    (ws / "src/pkg").mkdir(parents=True)
    (ws / "src/pkg/a.py").write_text("import os\nTODO = 1\n")
    (ws / "src/b.py").write_text("print('todo later')\n")
    (ws / "data.csv").write_text("x\n" * 10)
    (ws / ".jm-venv").mkdir()
    tree = await registry.call("file_list", {}, ctx)
    assert "src/" in tree.output and "  pkg/" in tree.output and "data.csv  20 B" in tree.output
    assert ".jm-venv" not in tree.output
    shallow = await registry.call("file_list", {"depth": 1}, ctx)
    assert "src/" in shallow.output and "pkg/" not in shallow.output
    found = await registry.call("file_find", {"pattern": "*.py"}, ctx)
    assert found.data == ["src/b.py", "src/pkg/a.py"]
    deep = await registry.call("file_find", {"pattern": "src/**/*.py"}, ctx)
    assert set(deep.data) == {"src/b.py", "src/pkg/a.py"}
    hits = await registry.call(
        "file_grep", {"pattern": "todo", "ignore_case": True, "glob": "*.py"}, ctx
    )
    assert hits.data == ["src/b.py:1: print('todo later')", "src/pkg/a.py:2: TODO = 1"]
    capped = await registry.call("file_grep", {"pattern": "x", "max_matches": 3}, ctx)
    assert len(capped.data) == 3 and "7 not shown" in capped.output
    bad = await registry.call("file_grep", {"pattern": "("}, ctx)
    assert bad.error and "regular expression" in bad.error

    assert (await registry.call("file_copy", {"src": "src", "dst": "backup"}, ctx)).ok
    assert (ws / "backup/pkg/a.py").read_text() == "import os\nTODO = 1\n"
    assert (await registry.call("file_move", {"src": "data.csv", "dst": "src"}, ctx)).ok
    assert (ws / "src/data.csv").exists() and not (ws / "data.csv").exists()
    clash = await registry.call("file_move", {"src": "src/b.py", "dst": "backup/b.py"}, ctx)
    assert clash.error and "overwrite" in clash.error
    inside = await registry.call("file_move", {"src": "src", "dst": "src/pkg"}, ctx)
    assert inside.error
    nonempty = await registry.call("file_delete", {"path": "backup"}, ctx)
    assert nonempty.error and "recursive" in nonempty.error
    assert (await registry.call("file_delete", {"path": "backup", "recursive": True}, ctx)).ok
    assert not (ws / "backup").exists()
    assert (await registry.call("file_delete", {"path": "src/b.py"}, ctx)).ok
    assert not (ws / "src/b.py").exists()
