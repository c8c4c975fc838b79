"""Load documents from a folder and clean away web boilerplate, keeping a map to the original.

Cleaning works on lines: a line is kept whole, kept in part (a title printed twice on one line),
or dropped. Kept runs are joined with a blank line, and each run records where it came from, so
any offset into the cleaned text maps back to the file the user has (``Document.to_raw``).
"""
from __future__ import annotations

import dataclasses

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from qa.errors import CorpusError
from qa.types import Document, Segment

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
METADATA_FILE = "metadata.json"
MAX_FILE_BYTES = 20 * 1024 * 1024

# Lines that are never article content. Matched against a whitespace-normalised line.
_DROP_LINE = [
    re.compile(p, re.I)
    for p in (
        r"^do you have questions about the biggest topics",
        r"^this article originally appeared in",
        r"^copyright\b|\bcopyright\s*(\(c\)|©)|all rights reserved\.?$",
        r"^see also\b",
        r"^(images?|photo)s?\s+(provided by|via|courtesy of|credit)\b",
        r"\bphoto:\s*\S+.*\balt=",  # photo caption followed by its alt text
        r"^this post is also available in:",
        r"^published:\s",
        r"^by:?\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,3}$",
        r"^(share|follow us|subscribe|sign up|advertisement|read more)\b.{0,60}$",
    )
]
# Lines after which nothing is article content (footers, generator credits).
_FOOTER = [re.compile(p, re.I) for p in (r"^scroll to top$", r"^engineered by\b")]
_PUBLISHED = re.compile(r"^published:\s*(.+?)\s*$", re.I | re.M)
_BYLINE = re.compile(r"^by:?\s+(.+?)\s*$", re.I | re.M)


def _norm_line(line: str) -> str:
    line = unicodedata.normalize("NFKC", line).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", line).strip()


def _doubled_prefix(line: str) -> int | None:
    """Length of the first copy when a line is a title printed twice (``T T``), else None."""
    n = len(line)
    for cut in range(n // 2 - 2, n // 2 + 3):
        if 10 < cut < n and _norm_line(line[:cut]) == _norm_line(line[cut:]):
            return len(line[:cut].rstrip())
    return None


def clean_text(raw: str) -> tuple[str, tuple[Segment, ...]]:
    """Remove boilerplate from ``raw``; return the cleaned text and its map to ``raw``.

    Non-breaking spaces become plain spaces (a one-for-one swap, so offsets still hold).
    """
    seen: set[str] = set()
    pieces: list[tuple[int, int]] = []  # (raw_start, raw_end) of kept runs
    pos = 0
    for line in raw.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        body = line.rstrip("\r\n")
        lead = len(body) - len(body.lstrip())
        body = body.strip()
        norm = _norm_line(body)
        if not norm:
            continue
        if any(p.search(norm) for p in _FOOTER):
            break
        if any(p.search(norm) for p in _DROP_LINE):
            continue
        key = norm.lower()
        if key in seen and len(norm) < 200:  # a repeated title or heading
            continue
        seen.add(key)
        keep = _doubled_prefix(body) or len(body)
        pieces.append((start + lead, start + lead + keep))
    parts: list[str] = []
    segments: list[Segment] = []
    offset = 0
    for raw_start, raw_end in pieces:
        if parts:
            parts.append("\n\n")
            offset += 2
        piece = raw[raw_start:raw_end].replace("\u00a0", " ")
        segments.append(Segment(offset, raw_start, len(piece)))
        parts.append(piece)
        offset += len(piece)
    return "".join(parts), tuple(segments)


def fingerprint(data: bytes | str) -> str:
    """A short content hash used to detect changed documents."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:16]


def _extract_html(raw_html: str) -> tuple[str, str]:
    """Main text and title of an HTML page, via trafilatura with a BeautifulSoup fallback."""
    title = ""
    text = ""
    try:
        import trafilatura

        text = trafilatura.extract(raw_html, include_comments=False, include_tables=True) or ""
        meta = trafilatura.extract_metadata(raw_html)
        title = (meta.title if meta else "") or ""
    except ImportError:  # pragma: no cover - trafilatura is a core dependency
        pass
    if not text.strip():
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(raw_html, "html.parser")
        for tag in soup(["script", "style", "nav", "footer", "header", "noscript"]):
            tag.decompose()
        title = title or (soup.title.get_text(strip=True) if soup.title else "")
        text = soup.get_text("\n")
    return text, title


def _extract_pdf(path: Path) -> tuple[str, str]:
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover
        raise CorpusError("reading PDF needs pypdf: pip install pypdf") from exc
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as exc:  # pypdf raises many types for a damaged file
        raise CorpusError(f"cannot read PDF {path.name}: {exc}") from exc
    return "\n\n".join(pages), str(title)


def read_raw(path: Path) -> tuple[str, str]:
    """The user-visible text of one file and a title hint (may be empty).

    Raises:
        CorpusError: unsupported type, too large, undecodable or damaged file.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(
            f"unsupported file type {path.name!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path.name} is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB"
            )
        if suffix == ".pdf":
            return _extract_pdf(path)
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(
            f"{path.name} is not UTF-8 text; convert it (e.g. iconv -t utf-8) and retry"
        ) from None
    if "\x00" in text:
        raise CorpusError(f"{path.name} looks binary (it holds NUL bytes), not text")
    if suffix in (".html", ".htm"):
        return _extract_html(text)
    return text, ""


def make_document(
    doc_id: str, raw: str, *, title: str = "", meta: dict | None = None, path: str | None = None
) -> Document:
    """Clean ``raw`` into a Document. ``meta`` may give title, publisher, date and author.

    Raises:
        CorpusError: when nothing is left after cleaning.
    """
    meta = meta or {}
    raw = unicodedata.normalize("NFC", raw)
    text, segments = clean_text(raw)
    if not text.strip():
        raise CorpusError(f"document {doc_id!r} has no text left after cleaning")
    published = _PUBLISHED.search(raw)
    byline = _BYLINE.search(raw)
    # A Markdown heading's marks are not part of the title ("# Notes" is "Notes").
    first_line = text.split("\n", 1)[0].strip().lstrip("#").strip()
    return Document(
        doc_id=doc_id,
        text=text,
        raw=raw,
        title=meta.get("title") or title or (first_line if len(first_line) <= 150 else doc_id),
        publisher=meta.get("publisher"),
        date=meta.get("date") or (published.group(1) if published else None),
        author=meta.get("author") or (byline.group(1) if byline else None),
        path=path,
        segments=segments,
    )


def load_metadata(folder: Path) -> dict[str, dict]:
    """Per-document metadata from ``metadata.json`` in the folder, if there is one."""
    path = folder / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"cannot read {path}: {exc}; fix or remove the file") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path} must hold an object mapping document ids to metadata")
    return data


def corpus_files(folder: str | Path, *, with_readme: bool = False) -> list[Path]:
    """Supported files in a corpus folder, sorted by name (a README.md only ``with_readme``).

    Raises:
        CorpusError: missing or unreadable folder, or one with no supported files.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {str(folder)!r} does not exist or is not a folder")
    try:
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
        )
    except OSError as exc:
        raise CorpusError(f"cannot list corpus folder {folder}: {exc.strerror or exc}") from exc
    readmes = [p for p in files if _is_readme(p)]
    files = [p for p in files if not p.name.startswith(".") and (with_readme or not _is_readme(p))]
    if not files:
        only = f" besides {readmes[0].name} ({README_REASON})" if readmes else ""
        raise CorpusError(
            f"corpus folder {str(folder)!r} holds no {'/'.join(SUPPORTED_SUFFIXES)} files{only}"
        )
    return files


# A corpus folder's README.md says what the folder holds (../shared/corpus has one); indexed, its
# description of the documents would answer questions about them. It is reported, never dropped
# silently: a folder of notes can have a README.md the user does want to ask about.
README_REASON = "a folder's README.md describes the corpus and is not indexed; rename it to index it"


def _is_readme(path: Path) -> bool:
    return path.name.lower() == "readme.md"


def readme_files(folder: str | Path) -> list[Path]:
    """The README.md of a corpus folder, if it has one (see :data:`README_REASON`)."""
    return [p for p in Path(folder).iterdir() if p.is_file() and _is_readme(p)]


def corpus_stats(folder: str | Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of every corpus file and of ``metadata.json``: equal
    stats mean an unchanged corpus without reading a file; a file whose stats differ is read
    and compared by hash (:func:`corpus_fingerprint`)."""
    folder = Path(folder)
    files = corpus_files(folder)
    meta = folder / "metadata.json"
    out = {}
    for path in files + ([meta] if meta.is_file() else []):
        st = path.stat()
        out[str(path.relative_to(folder))] = [st.st_size, st.st_mtime_ns]
    return out


def load_file(path: str | Path, meta: dict | None = None) -> Document:
    """Read and clean one file; its id is the file name without extension."""
    path = Path(path)
    raw, title = read_raw(path)
    return make_document(path.stem, raw, title=title, meta=meta, path=str(path))


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A corpus file that was not loaded, and why."""

    name: str
    reason: str
    # False for a file left out on purpose (a README.md), which ``skip_bad=False`` does not
    # refuse: only an unreadable, empty or clashing file is bad.
    bad: bool = True


def iter_folder(
    folder: str | Path, *, id_prefix: str = "", name_ids: bool = False, with_readme: bool = False
) -> Iterator[Document | SkippedFile]:
    """Each supported file of a folder, read one at a time: a Document, or a SkippedFile with
    the reason (unreadable, empty, or sharing an id with an earlier file). ``README.md`` and
    hidden files are not corpus files (a README.md is reported as skipped). See
    :func:`scan_folder` for the arguments."""
    folder = Path(folder)
    metadata = load_metadata(folder)
    seen: dict[str, Path] = {}
    files = corpus_files(folder, with_readme=with_readme)
    for path in [] if with_readme else readme_files(folder):
        log.info("not indexing %s: %s", path.name, README_REASON)
        yield SkippedFile(path.name, README_REASON, bad=False)
    for path in files:
        doc_id = id_prefix + (path.name if name_ids else path.stem)
        try:
            if doc_id in seen:
                raise CorpusError(
                    f"{path.name} and {seen[doc_id].name} share the id {doc_id!r}; rename one"
                )
            seen[doc_id] = path
            doc = load_file(path, metadata.get(path.stem))
            yield dataclasses.replace(doc, doc_id=doc_id) if doc_id != doc.doc_id else doc
        except CorpusError as exc:
            log.warning("skipping %s: %s", path.name, exc)
            yield SkippedFile(path.name, str(exc))


def scan_folder(
    folder: str | Path, *, skip_bad: bool = True, id_prefix: str = "", name_ids: bool = False,
    with_readme: bool = False,
) -> tuple[list[Document], list[SkippedFile]]:
    """Load every supported file of a folder (hidden files are left out; a ``README.md`` is
    reported among the skipped files).

    Args:
        skip_bad: log and skip unreadable, empty or clashing files (the default: one bad file
            must not block the rest); ``False`` raises on the first.
        id_prefix: put before every document id (uploads use ``upload:``).
        name_ids: a document's id is its file name with the extension (uploads), not the stem.
        with_readme: index a README.md too (an uploaded one is a document the user chose).

    Returns:
        The documents, and the files skipped with the reason.

    Raises:
        CorpusError: the folder is unusable, a file is bad (with ``skip_bad=False``), or no
            document is left.
    """
    docs: list[Document] = []
    skipped: list[SkippedFile] = []
    for item in iter_folder(folder, id_prefix=id_prefix, name_ids=name_ids, with_readme=with_readme):
        if isinstance(item, SkippedFile):
            if item.bad and not skip_bad:
                raise CorpusError(item.reason)
            skipped.append(item)
        else:
            docs.append(item)
    if not docs:
        raise CorpusError(f"no readable document in {folder}")
    return docs, skipped


def load_folder(folder: str | Path, *, skip_bad: bool = True, id_prefix: str = "") -> list[Document]:
    """The documents of :func:`scan_folder` (bad files skipped with a warning by default)."""
    return scan_folder(folder, skip_bad=skip_bad, id_prefix=id_prefix)[0]


def corpus_fingerprint(docs: Iterable[Document]) -> dict[str, str]:
    """doc id → hash of its raw text and metadata, to detect added, removed or changed files."""
    out = {}
    for d in docs:
        meta = json.dumps([d.title, d.publisher, d.date, d.author])
        out[d.doc_id] = fingerprint(d.raw + "\x00" + meta)
    return out
