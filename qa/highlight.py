"""Pure highlighting helpers: spans from offsets, rendered as text markers or escaped HTML."""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from qa.tokens import tokenize_spans
from qa.types import Span


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and merge the ones that overlap or touch."""
    out: list[Span] = []
    for s in sorted(spans):
        if out and s.start <= out[-1].end:
            out[-1] = Span(out[-1].start, max(out[-1].end, s.end))
        else:
            out.append(s)
    return out


def clip(spans: Iterable[Span], start: int, end: int) -> list[Span]:
    """Spans of a document clipped to ``[start, end)`` and made relative to ``start``."""
    out = []
    for s in spans:
        a, b = max(s.start, start), min(s.end, end)
        if a < b:
            out.append(Span(a - start, b - start))
    return out


def term_spans(text: str, query: str) -> list[Span]:
    """Where the query's terms occur in ``text`` (same tokenizer as BM25, so "founded"
    matches "founding")."""
    terms = _query_terms(query)
    return merge_spans(Span(t.start, t.end) for t in tokenize_spans(text)
                       if t.term in terms and _whole_word(text, t.start, t.end))


def _query_terms(query: str) -> set[str]:
    """The query's terms, less the last part of a dotted name: "Frontis.AI" lights up
    "Frontis.AI" and "Frontis", but not every "AI" of the corpus (nor "com" for "JD.com")."""
    toks = tokenize_spans(query)
    tails = {t.term for t in toks if t.start > 1 and query[t.start - 1] == "."
             and query[t.start - 2].isalnum()}
    whole = {t.term for t in toks if _whole_word(query, t.start, t.end)}
    return {t.term for t in toks} - (tails - whole)


def _whole_word(text: str, start: int, end: int) -> bool:
    """A part of a dotted name is not a word of its own: "AI" in "01.AI" or "com" in "JD.com"
    is not highlighted for "AI" (the part of "Beijing-based" before the hyphen still is)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before == "." and start > 1 and text[start - 2].isalnum()) and not (
        after == "." and end + 1 < len(text) and text[end + 1].isalnum())


def mark_text(text: str, spans: Sequence[Span], open_: str = "[[", close: str = "]]") -> str:
    """Plain text with markers around each span, e.g. ``founded by [[Lee Kai-fu]]``."""
    out, pos = [], 0
    for s in merge_spans(spans):
        out += [text[pos : s.start], open_, text[s.start : s.end], close]
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def mark_html(
    text: str,
    answer: Sequence[Span] = (),
    terms: Sequence[Span] = (),
    *,
    answer_class: str = "answer",
    term_class: str = "term",
) -> str:
    """HTML with every character of ``text`` escaped; only the ``<mark>`` tags are ours.

    Answer spans win where they overlap query-term spans.
    """
    answer = merge_spans(answer)
    terms = [t for t in merge_spans(terms) if not any(t.overlaps(a) for a in answer)]
    tagged = sorted([(s, answer_class) for s in answer] + [(s, term_class) for s in terms])
    out, pos = [], 0
    for s, cls in tagged:
        if s.start < pos:
            continue
        out.append(html.escape(text[pos : s.start]))
        out.append(f'<mark class="{cls}">{html.escape(text[s.start : s.end])}</mark>')
        pos = s.end
    out.append(html.escape(text[pos:]))
    return "".join(out)
