"""How well a sentence, with its neighbours and its document's title, covers the question.

Pure functions of term sets and weights: the question's terms weighted by IDF, a sentence's
coverage of them, the names asked about nearby, and its passage's retrieval score.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qa.question import Question
from qa.rules.patterns import alternatives, key, with_classes
from qa.rules.weights import ReaderWeights


@dataclass(frozen=True)
class Relevance:
    rank: float        # for ranking: an absent descriptor word counts half
    confidence: float  # for abstention: an absent descriptor word does not count


@dataclass(frozen=True)
class QuestionTerms:
    """The question's terms with their weights, computed once per question."""

    weights: dict[str, float]
    total: float
    descriptors: frozenset[str]
    doubt: float  # confidence factor for question words the corpus never uses


def question_terms(q: Question, idf: Callable[[str], float], doc_fraction: Callable[[str], float],
                   known: Iterable[str], w: ReaderWeights) -> QuestionTerms:
    """``known`` are words of titles and publishers, which count as present."""
    # Context words added by follow-up rewriting count less than the question's own.
    context = set(q.context)
    weights = {t: idf(t) * (w.context_term if t in context else 1.0) for t in set(q.terms)}
    desc = frozenset(q.descriptors)
    known = frozenset(known)
    # A question word the corpus never uses ("parameters", "funding") most often means the
    # corpus does not hold the answer.
    unseen = sum(
        1 for t in set(q.terms) - context - desc
        if all(doc_fraction(a) == 0 for a in alternatives(t)) and t not in known
    )
    return QuestionTerms(weights, sum(weights.values()), desc, w.unseen_term_doubt**unseen)


def sentence_relevance(q: Question, qt: QuestionTerms, here: frozenset[str], before: frozenset[str],
                       after: frozenset[str], meta: frozenset[str], hit_score: float,
                       top_hit: float, w: ReaderWeights) -> Relevance | None:
    """Relevance of a sentence (terms ``here``) between its neighbours, in a document whose
    title and publisher give ``meta`` ("..., according to Benzinga?"). ``hit_score`` is its
    passage's retrieval score and ``top_hit`` the best passage's. ``None`` when nothing is covered."""
    weights = qt.weights
    mine = with_classes(here)
    cov_s = sum(v for t, v in weights.items() if key(t) in mine or t in meta)
    window = mine | with_classes(before | after) | meta
    cov_w = sum(v for t, v in weights.items() if key(t) in window)
    if cov_w == 0:
        return None
    near = here | before | meta
    focus_frac = sum(1 for f in q.focus if f in near) / len(q.focus) if q.focus else 1.0
    retrieval_factor = (
        w.retrieval_floor + w.retrieval_share * max(hit_score, 0.0) / top_hit if top_hit > 0 else 1.0
    )
    # Descriptors of the answer ("which news agency") count when the text has them. Ranking
    # misses an absent one half; confidence not at all, since an answer of the wanted type
    # ("the Global Times" for "which newspaper") is what the descriptor asks for.
    missing = sum(v for t, v in weights.items() if t in qt.descriptors and t not in window)
    rank, conf = (
        _coverage(cov_s, cov_w, qt.total - share * missing, w)
        * (w.focus_floor + w.focus_share * focus_frac)
        * retrieval_factor
        for share in (w.missing_descriptor_rank, w.missing_descriptor_confidence)
    )
    return Relevance(rank, conf)


def _coverage(cov_s: float, cov_w: float, total: float, w: ReaderWeights) -> float:
    """How well a sentence (mostly) and its neighbours (some) cover the question's terms."""
    return (w.sentence_share * cov_s / total + w.window_share * cov_w / total) ** w.coverage_power
