"""Build the Word templates of the standard documents (cases/docx_templates/<key>.docx).

Run once (`.venv/bin/python scripts/make_docx_templates.py`); the .docx files are committed.
An office may then open any of them in Word and replace the letterhead, fonts or fixed wording,
keeping the docxtpl fields: {{ issuer }}, {{ title }} (written out in the template so Word shows
which document it is; the code's title is passed too), {{ tracking_no }}, {{ step }},
{{ printed_on }}, the `fields` rows ({{ f.label }} / {{ f.value }}), the optional `table`
({{ table.caption }}, `table.headers`, `table.rows`), `paragraphs` and `signatures`
(see cases/documents.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FONT = "SimSun"  # 宋体: what government offices print with; Word substitutes where it is missing


def _font(run, size: float, bold: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _para(doc, text: str, *, size: float = 12, bold: bool = False, align=None):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), size, bold)
    return p


def build(title: str) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin = section.bottom_margin = Cm(2.2)

    _para(doc, "{{ issuer }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, title, size=18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, "申请编号：{{ tracking_no }}    环节：{{ step }}", size=10.5, align=WD_ALIGN_PARAGRAPH.RIGHT)

    facts = doc.add_table(rows=3, cols=2)
    facts.style = "Table Grid"
    facts.alignment = WD_TABLE_ALIGNMENT.CENTER
    _font(facts.cell(0, 0).paragraphs[0].add_run("{%tr for f in fields %}"), 10.5)
    _font(facts.cell(1, 0).paragraphs[0].add_run("{{ f.label }}"), 10.5, bold=True)
    _font(facts.cell(1, 1).paragraphs[0].add_run("{{ f.value }}"), 10.5)
    _font(facts.cell(2, 0).paragraphs[0].add_run("{%tr endfor %}"), 10.5)
    for row in facts.rows:
        row.cells[0].width, row.cells[1].width = Cm(4.5), Cm(11.5)

    _para(doc, "{%p if table %}", size=10.5)
    _para(doc, "{{ table.caption }}", size=12, bold=True)
    # columns as many as the document's table has: a {%tc %} cell is replaced by its tag
    rows = doc.add_table(rows=4, cols=3)
    rows.style = "Table Grid"
    for r, start, cell, bold in ((0, "{%tc for h in table.headers %}", "{{ h }}", True),
                                 (2, "{%tc for c in row %}", "{{ c }}", False)):
        _font(rows.cell(r, 0).paragraphs[0].add_run(start), 10.5)
        _font(rows.cell(r, 1).paragraphs[0].add_run(cell), 10.5, bold=bold)
        _font(rows.cell(r, 2).paragraphs[0].add_run("{%tc endfor %}"), 10.5)
    _font(rows.cell(1, 0).paragraphs[0].add_run("{%tr for row in table.rows %}"), 10.5)
    _font(rows.cell(3, 0).paragraphs[0].add_run("{%tr endfor %}"), 10.5)
    _para(doc, "{%p endif %}", size=10.5)

    _para(doc, "{%p for text in paragraphs %}")
    p = _para(doc, "{{ text }}")
    p.paragraph_format.first_line_indent = Pt(24)
    _para(doc, "{%p endfor %}")

    _para(doc, "{%p for s in signatures %}")
    _para(doc, "{{ s }}：________________    日期：______年____月____日")
    _para(doc, "{%p endfor %}")
    _para(doc, "{{ issuer }}    打印日期：{{ printed_on }}", size=10.5, align=WD_ALIGN_PARAGRAPH.RIGHT)
    return doc


def main() -> None:
    import django
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")  # a developer's one-off run: no production secrets needed
    django.setup()
    from django.utils import translation

    from cases.documents import CHANGE_KINDS, KINDS, TEMPLATE_DIR

    TEMPLATE_DIR.mkdir(exist_ok=True)
    with translation.override("zh-hans"):
        for key, kind in [*KINDS.items(), *CHANGE_KINDS.items()]:
            build(str(kind.title)).save(TEMPLATE_DIR / f"{key}.docx")
            print(f"{key}.docx  {kind.title}")


if __name__ == "__main__":
    main()
