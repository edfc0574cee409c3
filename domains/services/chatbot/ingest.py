"""Reading help-centre files into heading-aware chunks: .md, .txt, .html, .pdf and FAQ .csv.

Every file is checked before it is parsed (size, type, content) and a bad one raises `InputError`
saying what is wrong, so nothing half-read ever reaches the knowledge base.

Example:
    >>> doc = parse_document("returns.md", b"# Returns\\n\\n## Window\\nReturn within 30 days.")
    >>> [c.heading for c in chunk_document(doc)[0]]
    ['Window']
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePath

from shared_models.exceptions import InputError, ResourceLimitError

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "ChunkDraft",
    "ChunkingConfig",
    "Document",
    "Section",
    "chunk_document",
    "parse_document",
    "read_folder",
    "split_sentences",
]

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".csv")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 500
MAX_PDF_PAGES = 300
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^a-z\s])")  # "e.g. this" stays whole; "end. <|x|>" splits


@dataclass(frozen=True)
class Section:
    """A heading and the text under it."""

    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    """A parsed file: where it came from, its title and its sections in reading order."""

    source: str
    title: str
    kind: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class ChunkingConfig:
    """How sections are cut into retrievable chunks.

    Attributes:
        max_chars: Longest chunk; a longer section is cut at sentence ends.
        overlap_chars: Text repeated from the end of one piece at the start of the next, so an answer
            that straddles a cut is still found whole in one chunk.
    """

    max_chars: int = 900
    overlap_chars: int = 150

    def __post_init__(self) -> None:
        if not 100 <= self.max_chars <= 10_000:
            raise InputError(f"max_chars must be between 100 and 10000, not {self.max_chars}")
        if not 0 <= self.overlap_chars < self.max_chars // 2:
            raise InputError("overlap_chars must be at least 0 and under half of max_chars")


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is stored: its text and where it sits in its document."""

    source: str
    title: str
    heading: str
    text: str
    position: int

    @property
    def search_text(self) -> str:
        """What retrieval indexes: the title and heading carry much of a help article's meaning."""
        heading = "" if self.heading == self.title else f" - {self.heading}"
        return f"{self.title}{heading}. {self.text}"


def split_sentences(text: str) -> list[str]:
    """Sentences of plain text (a light splitter: prose in help articles, not legal citations)."""
    pieces: list[str] = []
    for line in re.split(r"\n\s*\n|\n(?=[-*•] )", text):
        line = " ".join(line.split())
        pieces.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return pieces


# -- checks --------------------------------------------------------------------------------------


def _suffix(name: str) -> str:
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            f"{name}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return suffix


def _check_size(name: str, data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise ResourceLimitError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB per file. "
            "Split it into smaller files."
        )
    if not data.strip():
        raise InputError(f"{name} is empty")


def _decode_text(name: str, data: bytes) -> str:
    """UTF-8 text, refusing binaries renamed to .txt (NUL bytes or many control characters)."""
    sample = data[:65536]
    controls = sum(b < 32 and b not in (9, 10, 13, 12) for b in sample)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise InputError(f"{name} looks like a binary file, not text; upload UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- parsers -------------------------------------------------------------------------------------


def _markdown_sections(text: str, fallback_title: str) -> tuple[str, list[Section]]:
    title, heading, lines, sections = "", "", [], []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(heading or title or fallback_title, body))
        lines.clear()

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            flush()
            level, name = len(match.group(1)), match.group(2).strip()
            if level == 1 and not title:
                title = name
            heading = name
        else:
            lines.append(line)
    flush()
    return title or fallback_title, sections


class _HTMLText(HTMLParser):
    """Collects visible text, starting a new section at every h1-h6 (scripts and styles skipped)."""

    BLOCKS = frozenset(
        {"p", "div", "li", "br", "tr", "section", "article", "ul", "ol", "table", "blockquote"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.parts: list[str] = []
        self._skip = 0
        self._in_heading: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "noscript", "template"}:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._in_heading = tag
            self.parts.append(f"\n{'#' * int(tag[1])} ")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "noscript", "template"}:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag == self._in_heading:
            self._in_heading = None
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data.strip()
            return
        self.parts.append(" ".join(data.split()) if self._in_heading else data)


def _pdf_sections(name: str, data: bytes) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip().startswith(b"%PDF"):
        raise InputError(f"{name} is not a PDF (it does not start with %PDF)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name} is password-protected; upload an unencrypted copy")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ResourceLimitError(f"{name} has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{name} is a damaged PDF that cannot be read ({type(exc).__name__})") from exc
    except Exception as exc:  # pypdf raises many kinds on broken files (and on some encryptions)
        message = str(exc).lower()
        if "decrypt" in message or "password" in message or "crypt" in message:
            raise InputError(f"{name} is password-protected; upload an unencrypted copy") from exc
        raise InputError(f"{name} is a damaged PDF that cannot be read ({type(exc).__name__})") from exc
    sections = [Section(f"Page {i}", text) for i, text in enumerate(pages, 1) if text]
    if not sections:
        raise InputError(f"{name} holds no extractable text (a scanned PDF?); upload a text PDF")
    return sections


def _faq_sections(name: str, text: str) -> list[Section]:
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError(f"{name} is an empty CSV; an FAQ needs the columns question,answer")
    header = [h.strip().lower() for h in rows[0]]
    if "question" not in header or "answer" not in header:
        raise InputError(f"{name}: an FAQ CSV needs a header row with 'question' and 'answer', not {rows[0]}")
    q, a = header.index("question"), header.index("answer")
    sections = [
        Section(r[q].strip(), r[a].strip())
        for r in rows[1:]
        if len(r) > max(q, a) and r[q].strip() and r[a].strip()
    ]
    if not sections:
        raise InputError(f"{name} has a header but no question/answer rows")
    return sections


def parse_document(name: str, data: bytes) -> Document:
    """Check and parse one uploaded or read file.

    Args:
        name: The file name (its suffix picks the parser); used as the source in citations.
        data: The raw bytes.

    Returns:
        The `Document` with its sections.

    Raises:
        InputError: Unsupported type, empty, binary, not UTF-8, broken or encrypted PDF, FAQ CSV
            without question/answer columns.
        ResourceLimitError: Larger than `MAX_FILE_BYTES` (or too many PDF pages).
    """
    suffix = _suffix(name)
    _check_size(name, data)
    stem = PurePath(name).stem.replace("-", " ").replace("_", " ").strip().capitalize()
    if suffix == ".pdf":
        return Document(name, stem, "pdf", tuple(_pdf_sections(name, data)))
    text = _decode_text(name, data)
    if suffix == ".csv":
        return Document(name, stem, "faq", tuple(_faq_sections(name, text)))
    if suffix in {".html", ".htm"}:
        parser = _HTMLText()
        parser.feed(text)
        parser.close()
        title, sections = _markdown_sections("".join(parser.parts), parser.title or stem)
        kind = "html"
    elif suffix in {".md", ".markdown"}:
        title, sections = _markdown_sections(text, stem)
        kind = "markdown"
    else:
        title, sections = stem, [Section(stem, text.strip())]
        kind = "text"
    if not sections:
        raise InputError(f"{name} holds no text")
    return Document(name, title, kind, tuple(sections))


def _windows(sentences: list[str], config: ChunkingConfig) -> list[str]:
    """Group sentences into pieces of at most ``max_chars``, each starting with the tail of the last."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        sentence = sentence[: config.max_chars]
        if current and len(" ".join([*current, sentence])) > config.max_chars:
            pieces.append(" ".join(current))
            tail: list[str] = []
            for previous in reversed(current):
                if len(" ".join([previous, *tail])) > config.overlap_chars:
                    break
                tail.insert(0, previous)
            current = tail
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    return pieces


def chunk_document(doc: Document, config: ChunkingConfig | None = None) -> tuple[list[ChunkDraft], list[str]]:
    """Cut a document into chunks: one per section, long sections split with overlap.

    Sentences that read as instructions to an assistant ("ignore previous instructions...") are
    quarantined: kept out of the chunk text the bot reads, and returned for the admin page.

    Returns:
        The chunks in reading order, and the quarantined sentences.
    """
    from domains.services.chatbot.guard import find_instructions

    config = config or ChunkingConfig()
    drafts: list[ChunkDraft] = []
    quarantined: list[str] = []
    for section in doc.sections:
        kept = []
        for sentence in split_sentences(section.text):
            (quarantined if find_instructions(sentence) else kept).append(sentence)
        for piece in _windows(kept, config):
            drafts.append(ChunkDraft(doc.source, doc.title, section.heading, piece, len(drafts)))
    return drafts, quarantined


def read_folder(folder: str | Path) -> list[tuple[str, bytes]]:
    """The supported files in a folder (recursively), as (relative name, bytes), sorted by name.

    Raises:
        InputError: The folder does not exist or holds no supported file.
        ResourceLimitError: More than `MAX_FILES` files.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    if not files:
        raise InputError(f"{root} holds no {', '.join(SUPPORTED_SUFFIXES)} files")
    if len(files) > MAX_FILES:
        raise ResourceLimitError(f"{root} holds {len(files)} files; ingest at most {MAX_FILES} at once")
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in files]
