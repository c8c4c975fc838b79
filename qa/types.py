"""Result types. All are frozen; offsets are character offsets into ``Document.text``."""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from qa.labels import Label


@dataclass(frozen=True, order=True)
class Span:
    """A half-open character range ``[start, end)``."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start

    def shift(self, delta: int) -> "Span":
        return Span(self.start + delta, self.end + delta)

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Segment:
    """A run of cleaned text copied from the original at ``raw_start``."""

    start: int
    raw_start: int
    length: int


@dataclass(frozen=True)
class Document:
    """A cleaned document.

    ``text`` is what the system indexes and shows; ``raw`` is the file as the user has it.
    ``segments`` map every character of ``text`` that came from ``raw`` back to it (the blank
    lines joining kept paragraphs are the only characters that did not).
    """

    doc_id: str
    text: str
    raw: str = ""
    title: str = ""
    publisher: str | None = None
    date: str | None = None
    author: str | None = None
    path: str | None = None
    segments: tuple[Segment, ...] = ()

    def to_raw(self, span: Span) -> Span:
        """Map a span of ``text`` to the matching span of ``raw``.

        Raises:
            ValueError: when the span crosses text that cleaning joined (it has no single
                counterpart in the original).
        """
        if not self.segments:
            return span
        starts = [s.start for s in self.segments]
        i = bisect.bisect_right(starts, span.start) - 1
        seg = self.segments[max(i, 0)]
        if not (seg.start <= span.start and span.end <= seg.start + seg.length):
            raise ValueError(f"span {span} is not inside one original segment of {self.doc_id}")
        return Span(seg.raw_start + span.start - seg.start, seg.raw_start + span.end - seg.start)

    def citation(self) -> str:
        """``Title — Publisher, date`` with whatever parts are known."""
        rest = ", ".join(p for p in (self.publisher, self.date) if p)
        return f"{self.title} — {rest}" if rest else self.title


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``text == document.text[start:end]``."""

    doc_id: str
    text: str
    start: int
    end: int
    chunk_id: int = -1


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score, rank (1-based) and component scores.

    A component score is ``None`` when that retriever was not used (pure BM25 or dense mode).
    """

    chunk: Chunk
    score: float
    rank: int
    lexical_score: float | None = None
    dense_score: float | None = None


@dataclass(frozen=True)
class Passage:
    """A passage shown as evidence, with highlight spans relative to ``text``."""

    doc_id: str
    text: str
    start: int
    end: int
    score: float
    highlights: tuple[Span, ...] = ()
    title: str = ""

    @classmethod
    def from_hit(cls, hit: "Hit", highlights: tuple[Span, ...] = (), title: str = "") -> "Passage":
        """The hit's chunk as a passage; ``highlights`` are relative to the chunk text."""
        c = hit.chunk
        return cls(c.doc_id, c.text, c.start, c.end, hit.score, tuple(highlights), title)


@dataclass(frozen=True)
class Answer:
    """An extractive answer: ``text == document.text[span.start:span.end]``.

    Attributes:
        sentence: the sentence containing the answer, and ``sentence_span`` its offsets.
        passages: supporting passages, each with its own highlight offsets.
        sources: ids of every document whose text supports this answer (agreement merging).
        rank_score: the reader's ranking score when it differs from ``score`` (the confidence).
        answer_type: the span's label (:class:`qa.labels.Label`), ``None`` when unknown.
        explanation: why the reader chose this span (``qa ask --explain``), when it says.
    """

    text: str
    score: float
    doc_id: str
    span: Span
    sentence: str = ""
    sentence_span: Span | None = None
    passages: tuple[Passage, ...] = ()
    sources: tuple[str, ...] = ()
    answer_type: Label | None = None
    rank_score: float | None = None
    explanation: "Explanation | None" = None


@dataclass(frozen=True)
class Explanation:
    """Why an answer won: the reader's features of the span and their weighted terms."""

    reader: str
    features: tuple[tuple[str, float | str], ...] = ()
    terms: tuple[tuple[str, float], ...] = ()

    def lines(self) -> list[str]:
        out = [f"reader: {self.reader}"]
        out += [f"  feature {k} = {v:.3f}" if isinstance(v, float) else f"  feature {k} = {v}"
                for k, v in self.features]
        out += [f"  term    {k} = {v:+.3f}" for k, v in self.terms]
        return out


@dataclass(frozen=True)
class Reply:
    """What the assistant says to one question.

    ``answer`` is ``None`` when the corpus does not hold the answer; ``passages`` then holds the
    closest passages. ``query`` is the self-contained question that was asked, and ``context``
    the words of earlier turns searched with it (typed, never folded into the text). ``message`` is
    set, and nothing was searched, when the turn was not a question for the corpus (a greeting,
    thanks, a question about the corpus itself) or could not be understood alone ("When was it
    founded?" with nothing named before). ``corrections`` lists misspelt words that were
    replaced before searching.
    """

    question: str
    query: str
    answer: Answer | None
    alternatives: tuple[Answer, ...] = ()
    passages: tuple[Passage, ...] = ()
    retrieval_ms: float = 0.0
    reading_ms: float = 0.0
    message: str | None = None
    context: tuple[str, ...] = ()
    # Misspelt words replaced before searching (qa.spelling.Correction); ``query`` has them.
    corrections: tuple = ()

    @property
    def search_text(self) -> str:
        """What retrieval searched: the question and the context words."""
        return " ".join((self.query, *self.context))

    @property
    def abstained(self) -> bool:
        return self.answer is None
