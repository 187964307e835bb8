"""Office formats as text (csv, xlsx, docx, pdf) and deliverables written from rows or text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TEXT_CONVERTED = (".csv", ".tsv", ".xlsx", ".xlsm", ".docx", ".pdf")


def to_text(path: Path) -> str:
    """The readable text of a csv, xlsx, docx or pdf file."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _csv_text(path, "\t" if suffix == ".tsv" else None)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_text(path)
    if suffix == ".docx":
        return _docx_text(path)
    if suffix == ".pdf":
        return _pdf_text(path)
    raise ValueError(f"no converter for {suffix}")


def _csv_text(path: Path, delimiter: str | None) -> str:
    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(raw[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = list(csv.reader(io.StringIO(raw), delimiter=delimiter))
    return "\n".join(" | ".join(cell for cell in row) for row in rows)


def _xlsx_text(path: Path) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out = []
        for ws in wb.worksheets:
            out.append(f"## Sheet: {ws.title}")
            for row in ws.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    out.append(" | ".join(cells))
        return "\n".join(out)
    finally:
        wb.close()


def _docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    out = []
    body = document.element.body
    paragraphs = {p._element: p for p in document.paragraphs}
    tables = {t._element: t for t in document.tables}
    for child in body.iterchildren():
        if child in paragraphs:
            p = paragraphs[child]
            style = (p.style.name or "") if p.style is not None else ""
            text = p.text
            if style.startswith("Heading") and text:
                level = style.removeprefix("Heading").strip()
                hashes = "#" * int(level) if level.isdigit() else "#"
                text = f"{hashes} {text}"
            elif style.startswith("List") and text:
                text = f"- {text}"
            out.append(text)
        elif child in tables:
            for row in tables[child].rows:
                out.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(out)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    out = []
    for number, page in enumerate(reader.pages, start=1):
        out.append(f"## Page {number}")
        out.append(page.extract_text() or "")
    return "\n".join(out)


def write_table(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] | None, sheet: str | None
) -> int:
    """Write rows as csv or xlsx (by suffix) to ``path``; returns the number of rows."""
    all_rows = [list(header)] if header else []
    all_rows += [list(r) for r in rows]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, delimiter="\t" if suffix == ".tsv" else ",").writerows(all_rows)
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = (sheet or "Sheet1")[:31]
        for row in all_rows:
            ws.append(row)
        if header:
            from openpyxl.styles import Font

            for cell in ws[1]:
                cell.font = Font(bold=True)
        wb.save(path)
    else:
        raise ValueError("tables are written as .csv, .tsv or .xlsx")
    return len(all_rows)


def write_docx(
    path: Path, text: str, title: str | None, tables: Sequence[Sequence[Sequence[Any]]]
) -> None:
    """Write a Word document from light markdown: '#' headings, '-' bullets, paragraphs."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=0)
    for block in text.split("\n"):
        line = block.rstrip()
        if not line.strip():
            continue
        stripped = line.lstrip()
        if stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            document.add_heading(stripped[level:].strip(), level=min(level, 9))
        elif stripped.startswith(("- ", "* ")):
            document.add_paragraph(stripped[2:].strip(), style="List Bullet")
        else:
            document.add_paragraph(line)
    for table_rows in tables:
        if not table_rows:
            continue
        width = max(len(r) for r in table_rows)
        table = document.add_table(rows=0, cols=width)
        table.style = "Table Grid"
        for row in table_rows:
            cells = table.add_row().cells
            for i, value in enumerate(row):
                cells[i].text = "" if value is None else str(value)
    document.save(str(path))
