"""Screenplay layout: an HTML preview and a PDF, both in the standard format.

US Letter, Courier 12 pt at 6 lines per inch; margins 1.5 in left, 1 in right, top and bottom.
Measured from the left margin: dialogue 1.0 in (3.5 in wide), parentheticals 1.5 in, character
cues 2.0 in; transitions flush right; page numbers top right from page 2. Dual dialogue sits in two
columns. Notes, synopses and sections are writer's aids: shown in the preview, left out of the PDF.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from domains.entertainment.scripts.fountain import Element, Screenplay

__all__ = ["LAYOUT", "Layout", "to_html", "to_pdf"]


@dataclass(frozen=True)
class Layout:
    """Positions in inches (x from the left margin) and widths; the standard screenplay page."""

    page_width: float = 8.5
    page_height: float = 11.0
    left: float = 1.5
    right: float = 1.0
    top: float = 1.0
    bottom: float = 1.0
    line: float = 1 / 6  # 12 pt Courier, 6 lines per inch
    dialogue_x: float = 1.0
    dialogue_w: float = 3.5
    paren_x: float = 1.5
    paren_w: float = 2.0
    cue_x: float = 2.0

    @property
    def text_width(self) -> float:
        return self.page_width - self.left - self.right


LAYOUT = Layout()
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"\*(.+?)\*")
_UNDERLINE = re.compile(r"_(.+?)_")
_INLINE_NOTE = re.compile(r"\[\[(.+?)\]\]", re.DOTALL)


def _inline_html(text: str) -> str:
    out = html.escape(text)
    out = _INLINE_NOTE.sub(r'<span class="note">[[\1]]</span>', out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    out = _UNDERLINE.sub(r"<u>\1</u>", out)
    return out.replace("\n", "<br>")


def _plain(text: str) -> str:
    text = _INLINE_NOTE.sub("", text)
    for pattern in (_BOLD, _ITALIC, _UNDERLINE):
        text = pattern.sub(r"\1", text)
    return text


_CSS = f"""
.screenplay {{ background: #fff; color: #111; font-family: 'Courier Prime', 'Courier New', Courier, monospace;
  font-size: 12pt; line-height: 12pt; width: {LAYOUT.page_width}in; box-sizing: border-box;
  padding: {LAYOUT.top}in {LAYOUT.right}in {LAYOUT.bottom}in {LAYOUT.left}in; margin: 0 auto;
  box-shadow: 0 0 6px rgba(0,0,0,.25); }}
.screenplay p {{ margin: 0 0 12pt 0; white-space: normal; }}
.screenplay .title-page {{ text-align: center; margin-bottom: 48pt; }}
.screenplay .title-page .title {{ text-transform: uppercase; font-weight: bold; margin-top: 24pt; }}
.screenplay .scene_heading {{ text-transform: uppercase; font-weight: bold; margin-top: 24pt; }}
.screenplay .scene_heading .number {{ float: right; font-weight: normal; }}
.screenplay .character {{ margin: 0 0 0 {LAYOUT.cue_x}in; text-transform: uppercase; }}
.screenplay .parenthetical {{ margin: 0 0 0 {LAYOUT.paren_x - LAYOUT.dialogue_x}in;
  width: {LAYOUT.paren_w}in; }}
.screenplay .dialogue-block {{ margin: 0 0 12pt {LAYOUT.dialogue_x}in; width: {LAYOUT.dialogue_w}in; }}
.screenplay .dialogue-block .character {{ margin-left: {LAYOUT.cue_x - LAYOUT.dialogue_x}in; }}
.screenplay .dialogue {{ margin: 0; }}
.screenplay .dual {{ display: flex; gap: 0.3in; margin-bottom: 12pt; }}
.screenplay .dual .dialogue-block {{ margin: 0; width: 2.85in; }}
.screenplay .dual .dialogue-block .character {{ margin-left: 0.8in; }}
.screenplay .transition {{ text-align: right; text-transform: uppercase; }}
.screenplay .centered {{ text-align: center; }}
.screenplay .note, .screenplay .synopsis, .screenplay .section {{ color: #777; }}
.screenplay .lyrics {{ font-style: italic; }}
.screenplay hr.page_break {{ border: 0; border-top: 1px dashed #bbb; margin: 24pt 0; }}
"""


def _blocks(elements: list[Element]) -> list[tuple[str, list[Element]]]:
    """Group dialogue blocks (cue + parentheticals + speech); a ``dual`` cue joins the block before."""
    blocks: list[tuple[str, list[Element]]] = []
    for element in elements:
        if element.type == "character":
            if element.dual and blocks and blocks[-1][0] in ("dialogue", "dual"):
                _kind, previous = blocks[-1]
                blocks[-1] = ("dual", [*previous, element])
            else:
                blocks.append(("dialogue", [element]))
        elif (
            element.type in ("parenthetical", "dialogue") and blocks and blocks[-1][0] in ("dialogue", "dual")
        ):
            blocks[-1][1].append(element)
        else:
            blocks.append((element.type, [element]))
    return blocks


def _dialogue_html(elements: list[Element]) -> str:
    parts = []
    for e in elements:
        if e.type == "character":
            parts.append(f'<p class="character">{html.escape(e.text)}</p>')
        elif e.type == "parenthetical":
            parts.append(f'<p class="parenthetical">({_inline_html(e.text)})</p>')
        else:
            parts.append(f'<p class="dialogue">{_inline_html(e.text)}</p>')
    return f'<div class="dialogue-block">{"".join(parts)}</div>'


def _split_dual(elements: list[Element]) -> list[list[Element]]:
    columns: list[list[Element]] = []
    for e in elements:
        if e.type == "character":
            columns.append([e])
        else:
            columns[-1].append(e)
    return columns


def to_html(screenplay: Screenplay, *, standalone: bool = False) -> str:
    """The screenplay as HTML in screenplay layout (a styled ``div``, or a whole page)."""
    out = ['<div class="screenplay">']
    if screenplay.title_page:
        out.append('<div class="title-page">')
        for key, value in screenplay.title_page.items():
            cls = "title" if key.lower() == "title" else "meta"
            out.append(f'<p class="{cls}">{_inline_html(value)}</p>')
        out.append("</div>")
    for kind, group in _blocks(screenplay.elements):
        e = group[0]
        if kind == "dialogue":
            out.append(_dialogue_html(group))
        elif kind == "dual":
            out.append(f'<div class="dual">{"".join(_dialogue_html(c) for c in _split_dual(group))}</div>')
        elif kind == "scene_heading":
            number = f'<span class="number">{html.escape(e.scene_number)}</span>' if e.scene_number else ""
            out.append(f'<p class="scene_heading">{number}{html.escape(e.text)}</p>')
        elif kind == "page_break":
            out.append('<hr class="page_break">')
        elif kind == "section":
            out.append(f'<p class="section">{"#" * e.depth} {_inline_html(e.text)}</p>')
        elif kind == "note":
            out.append(f'<p class="note">[[{_inline_html(e.text)}]]</p>')
        elif kind == "synopsis":
            out.append(f'<p class="synopsis">= {_inline_html(e.text)}</p>')
        else:  # action, transition, centered, lyrics: the class carries the layout
            out.append(f'<p class="{kind}">{_inline_html(e.text)}</p>')
    out.append("</div>")
    body = "\n".join(out)
    style = f"<style>{_CSS}</style>"
    if not standalone:
        return style + body
    title = html.escape(screenplay.title or "Screenplay")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{style}'
        f'</head><body style="background:#eee;padding:24px">{body}</body></html>\n'
    )


# -- PDF ------------------------------------------------------------------------------------------

_LATIN1 = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "--", "…": "...", "\u00a0": " "}
)


def _latin1(text: str) -> str:
    """The PDF core font Courier covers Latin-1; typographic punctuation becomes ASCII, the rest '?'."""
    return _plain(text).translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def to_pdf(screenplay: Screenplay, layout: Layout = LAYOUT) -> bytes:
    """The screenplay as a PDF in screenplay layout (title page first when there is one)."""
    from fpdf import FPDF

    class ScriptPDF(FPDF):
        body_start = 1

        def header(self) -> None:
            number = self.page_no() - self.body_start + 1
            if number >= 2:
                self.set_xy(layout.page_width - layout.right - 1.0, 0.5)
                self.cell(1.0, layout.line, f"{number}.", align="R")
                self.set_xy(layout.left, layout.top)

    pdf = ScriptPDF(unit="in", format="letter")
    pdf.set_margins(layout.left, layout.top, layout.right)
    pdf.set_auto_page_break(True, margin=layout.bottom)
    pdf.set_font("Courier", size=12)
    pdf.set_title(_latin1(screenplay.title or "Screenplay"))
    pdf.set_creator("AIGC Industry Suite")
    if screenplay.title_page:
        pdf.add_page()
        _pdf_title_page(pdf, screenplay, layout)
        pdf.body_start = 2
    pdf.add_page()
    first = True
    for kind, group in _blocks(screenplay.elements):
        if kind in ("note", "synopsis", "section"):
            continue
        if kind == "page_break":
            pdf.add_page()
            first = True
            continue
        if not first:
            pdf.ln(layout.line)
        first = False
        _pdf_block(pdf, kind, group, layout)
    return bytes(pdf.output())


def _cell(pdf: Any, x: float, width: float, text: str, layout: Layout, align: str = "L") -> None:
    """Text wrapped to ``width`` from ``x`` (inches from the page edge); the cursor goes to the next line."""
    pdf.set_x(x)
    pdf.multi_cell(width, layout.line, _latin1(text), align=align, new_x="LMARGIN", new_y="NEXT")


def _pdf_title_page(pdf: Any, screenplay: Screenplay, layout: Layout) -> None:
    lower = {k.lower(): v for k, v in screenplay.title_page.items()}
    centred = ("title", "credit", "author", "source")
    pdf.set_y(3.5)
    for key in (k for k in centred if k in lower):
        text = lower[key].upper() if key == "title" else lower[key]
        _cell(pdf, layout.left, layout.text_width, text, layout, align="C")
        pdf.ln(layout.line)
    rest = [v for k, v in lower.items() if k not in centred]
    if rest:  # contact, notes, draft date: bottom left
        lines = sum(v.count("\n") + 2 for v in rest)
        pdf.set_y(max(pdf.get_y(), layout.page_height - layout.bottom - layout.line * (lines + 4)))
        for value in rest:
            _cell(pdf, layout.left, layout.text_width, value, layout)
            pdf.ln(layout.line)


def _pdf_block(pdf: Any, kind: str, group: list[Element], layout: Layout) -> None:
    w, left = layout.text_width, layout.left
    e = group[0]
    if kind == "dialogue":
        _pdf_dialogue(
            pdf, group, left + layout.dialogue_x, layout.dialogue_w, layout.cue_x - layout.dialogue_x, layout
        )
    elif kind == "dual":
        top, page = pdf.get_y(), pdf.page
        ends = []
        for column, elements in enumerate(_split_dual(group)[:2]):
            pdf.page = page
            pdf.set_y(top)
            _pdf_dialogue(pdf, elements, left + column * w / 2, w / 2 - 0.2, 0.8, layout)
            ends.append((pdf.page, pdf.get_y()))
        pdf.page, y = max(ends)
        pdf.set_y(y)
    elif kind == "scene_heading":
        if e.scene_number:
            pdf.set_x(left - 0.75)
            pdf.cell(0.6, layout.line, _latin1(e.scene_number))
        _cell(pdf, left, w, e.text.upper(), layout)
    elif kind == "transition":
        _cell(pdf, left, w, e.text.upper(), layout, align="R")
    elif kind == "centered":
        _cell(pdf, left, w, e.text, layout, align="C")
    else:  # action, lyrics
        _cell(pdf, left, w, e.text, layout)


def _pdf_dialogue(
    pdf: Any, elements: list[Element], x: float, width: float, cue_dx: float, layout: Layout
) -> None:
    """One dialogue block whose speech starts at ``x``; the cue sits ``cue_dx`` further right."""
    for e in elements:
        if e.type == "character":
            _cell(pdf, x + cue_dx, max(width - cue_dx, 1.0), e.text.upper(), layout)
        elif e.type == "parenthetical":
            paren_dx = layout.paren_x - layout.dialogue_x
            _cell(pdf, x + paren_dx, min(layout.paren_w, width - paren_dx), f"({e.text})", layout)
        else:
            _cell(pdf, x, width, e.text, layout)
