"""The reader contract and what is done once for every reader: grouping and agreement.

Every reader implements :class:`Reader`: ``read(question, hits)`` returns one :class:`Answer`
per candidate span, best first, each citing the one passage it was read from. The assistant
then calls :func:`group_answers`, which folds spans with the same text into one answer cited by
every document that holds it, and answers that nearly agree ("over 100 million" and "100
million") into the better one. Pure functions: no model, no I/O.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from qa.labels import Label
from qa.metrics import f1, normalize_answer
from qa.types import Answer, Hit, Passage, Span

# Each further document that holds the same answer raises its rank and confidence by this share.
SUPPORT_BONUS = 0.05
# A span counts as support when it ranks at least this share of its group's best.
SUPPORT_FLOOR = 0.5
# Two answers from different documents agree when their token F1 reaches this.
AGREEMENT_F1 = 0.66


@runtime_checkable
class Reader(Protocol):
    """What every reader implements.

    ``read`` returns one answer per candidate span, best first, ungrouped; ``Answer.score`` is
    the reader's confidence in [0, 1] and ``Answer.rank_score`` (when set) its ranking score.
    ``default_threshold`` is the confidence below which the assistant withholds the answer.
    ``hits`` is the retrieved pool; the reader reads its first ``passages`` (its config's number
    when ``None``) and may use the rest for statistics.
    """

    name: str
    default_threshold: float

    def read(self, question, hits: Sequence[Hit], passages: int | None = None) -> list[Answer]: ...


def span_answer(
    text: str, doc_id: str, span: Span, hit: Hit, *, title: str, score: float,
    sentence: str = "", sentence_span: Span | None = None, answer_type: Label | None = None,
    rank_score: float | None = None, explanation=None,
) -> Answer:
    """One candidate span as an answer citing the passage it came from."""
    passage = Passage.from_hit(hit, (span.shift(-hit.chunk.start),), title)
    return Answer(
        text=text, score=score, doc_id=doc_id, span=span, sentence=sentence,
        sentence_span=sentence_span, passages=(passage,), sources=(doc_id,),
        answer_type=answer_type, rank_score=rank_score, explanation=explanation,
    )


def _rank(a: Answer) -> float:
    return a.score if a.rank_score is None else a.rank_score


def group_answers(answers: Sequence[Answer]) -> list[Answer]:
    """Group spans by normalised text, then fold agreeing answers; best first.

    Within a group the best-ranked span is the answer; every other document whose span ranks at
    least ``SUPPORT_FLOOR`` of it adds a citation and ``SUPPORT_BONUS`` to rank and confidence.
    """
    groups: dict[str, list[Answer]] = {}
    for a in answers:
        key = normalize_answer(a.text)
        if key:
            groups.setdefault(key, []).append(a)
    ranked = []
    for group in groups.values():
        group.sort(key=lambda a: -_rank(a))
        best = group[0]
        by_doc: dict[str, Answer] = {}
        for a in group:
            if _rank(a) >= SUPPORT_FLOOR * _rank(best) and a.doc_id not in by_doc:
                by_doc[a.doc_id] = a
        boost = 1 + SUPPORT_BONUS * (len(by_doc) - 1)
        merged = dataclasses.replace(
            best,
            score=min(1.0, best.score * boost),
            rank_score=_rank(best) * boost,
            passages=tuple(p for a in by_doc.values() for p in a.passages),
            sources=tuple(by_doc),
        )
        ranked.append(merged)
    ranked.sort(key=lambda a: (-_rank(a), len(a.text)))
    return merge_agreeing(ranked)


def merge_agreeing(answers: Sequence[Answer]) -> list[Answer]:
    """Fold answers from other documents that say nearly the same thing into the better-ranked
    one, citing every source. Order is kept."""
    merged: list[Answer] = []
    for a in answers:
        for i, m in enumerate(merged):
            new_docs = [d for d in a.sources if d not in m.sources]
            if new_docs and f1(a.text, m.text) >= AGREEMENT_F1:
                extra = tuple(p for p in a.passages if p.doc_id in new_docs)
                merged[i] = dataclasses.replace(
                    m,
                    sources=m.sources + tuple(new_docs),
                    passages=m.passages + extra,
                    score=min(1.0, m.score * (1 + SUPPORT_BONUS * len(new_docs))),
                )
                break
        else:
            merged.append(a)
    return merged
