from __future__ import annotations

import re

from domains.entertainment.scripts.fountain import parse
from domains.entertainment.scripts.render import LAYOUT, to_html, to_pdf
from tests.domains.entertainment.test_fountain import SAMPLE


def test_html_preview_uses_screenplay_layout() -> None:
    page = to_html(parse(SAMPLE), standalone=True)
    assert page.startswith("<!DOCTYPE html>") and "<title>The Last Ferry</title>" in page
    assert "Courier" in page and "font-size: 12pt" in page
    assert f"padding: {LAYOUT.top}in {LAYOUT.right}in {LAYOUT.bottom}in {LAYOUT.left}in" in page
    assert '<p class="scene_heading"><span class="number">1</span>EXT. HARBOUR - NIGHT</p>' in page
    assert '<div class="dual">' in page and "<i>tonight</i>" in page
    assert '<p class="transition">CUT TO:</p>' in page and '<p class="centered">THE END</p>' in page
    assert "It was always late.<br>Always." in page


def test_html_escapes_script_text() -> None:
    page = to_html(parse("INT. LAB - DAY\n\n<script>alert(1)</script>\n"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_pdf_is_a_letter_page_document_with_the_script_text() -> None:
    pdf = to_pdf(parse(SAMPLE + "\nIt’s “fine” — café.\n"))
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [0 0 612.00 792.00]" in pdf or re.search(rb"/MediaBox\s*\[0 0 612", pdf)
    assert b"Courier" in pdf
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    assert pages >= 3  # title page, body, and the page break
