"""A sentence as every rule-reader stage sees it: tokenised once, with word positions.

``Sentence`` is built once per (document, sentence) and cached by the reader. ``Context`` adds
the question and the sentence's stored annotations: it is the one declared input of every
candidate generator (:mod:`qa.rules.generators`).
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field

from qa.annotate import Annotation, Entity
from qa.labels import ENTITY_LABELS, Label
from qa.question import Question
from qa.rules.patterns import WORD
from qa.tokens import tokenize_spans
from qa.types import Span


@dataclass(frozen=True)
class Sentence:
    """One sentence; every offset is into ``doc_text``."""

    doc_id: str
    span: Span
    doc_text: str = field(repr=False)
    terms: frozenset[str]
    token_pos: tuple[tuple[str, int], ...]  # (term, document offset)
    word_spans: tuple[tuple[int, int], ...]
    word_starts: tuple[int, ...] = field(repr=False)

    @classmethod
    def of(cls, doc_id: str, doc_text: str, span: Span) -> "Sentence":
        text = doc_text[span.start : span.end]
        toks = tokenize_spans(text)
        words = tuple((m.start() + span.start, m.end() + span.start) for m in WORD.finditer(text))
        return cls(
            doc_id, span, doc_text, frozenset(t.term for t in toks),
            tuple((t.term, span.start + t.start) for t in toks), words, tuple(a for a, _ in words),
        )

    @property
    def text(self) -> str:
        return self.doc_text[self.span.start : self.span.end]

    def word_at(self, pos: int) -> int:
        """Index of the word starting at or before ``pos``."""
        return bisect.bisect_right(self.word_starts, pos) - 1

    def word_before(self, pos: int) -> int:
        """Index of the last word starting before ``pos``."""
        return bisect.bisect_left(self.word_starts, pos) - 1

    def snap(self, start: int, end: int) -> tuple[int, int]:
        """Widen ``[start, end)`` to whole words: entities can stop inside a token ("Frontis"
        of "Frontis.AI")."""
        i = self.word_at(start)
        if i >= 0 and self.word_spans[i][0] < start < self.word_spans[i][1]:
            start = self.word_spans[i][0]
        j = self.word_before(end)
        if j >= 0 and self.word_spans[j][0] < end < self.word_spans[j][1]:
            end = self.word_spans[j][1]
        return start, end


@dataclass(frozen=True)
class Context:
    """What a candidate generator reads: the question, the sentence and its annotations."""

    question: Question
    sentence: Sentence
    entities: tuple[Entity, ...] = ()
    noun_chunks: tuple[Span, ...] = ()
    # Share of documents holding a term: words found everywhere ("AI") anchor nothing.
    doc_fraction: Callable[[str], float] = lambda term: 0.0

    @classmethod
    def of(cls, question: Question, sentence: Sentence, annotation: Annotation | None,
           doc_fraction: Callable[[str], float] | None = None) -> "Context":
        s0, s1 = sentence.span.start, sentence.span.end
        entities: list[Entity] = []
        chunks: list[Span] = []
        if annotation is not None:
            entities = [e for e in annotation.entities
                        if e.start >= s0 and e.end <= s1 and Label.parse(e.label) in ENTITY_LABELS]
            lo = bisect.bisect_left(annotation.noun_chunks, Span(s0, s0))
            for nc in annotation.noun_chunks[lo:]:
                if nc.start >= s1:
                    break
                if nc.end <= s1:
                    chunks.append(nc)
        return cls(question, sentence, tuple(entities), tuple(chunks),
                   doc_fraction or (lambda term: 0.0))
