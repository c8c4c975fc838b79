"""Features of one candidate span, and the scorer that weighs them. Pure functions.

Ranking uses closeness to the question's words; confidence (what abstention is decided on)
asks only whether the sentence covers the question and the span has the wanted type.
"""
from __future__ import annotations

from dataclasses import dataclass

from qa.labels import NAME_LABELS, PHRASE_LABELS, Label
from qa.question import DESC
from qa.rules.generators import COMMON_WORD_FRACTION
from qa.rules.layout import Layout, conflicted, proximity
from qa.rules.patterns import AGENT
from qa.rules.relevance import Relevance
from qa.rules.sentence import Context
from qa.rules.type_fit import type_fit
from qa.rules.weights import ReaderWeights
from qa.tokens import tokenize

_AGENT_CHARS = 40  # how far before a name to look for "<verb> by"


@dataclass(frozen=True)
class Features:
    """Why a span scores what it does; every field is in [0, 1] unless said otherwise."""

    label: Label
    relevance: Relevance  # of the sentence, for ranking and for confidence
    type_fit: float       # after the adjustments below
    proximity: float
    overlap: float        # share of the span's words that repeat the question
    words: int
    conflict: bool        # beside "<role> of <another name>"
    doubt: float = 1.0    # confidence factor for question words the corpus never uses

    def as_pairs(self) -> tuple[tuple[str, float | str], ...]:
        return (("type", str(self.label)), ("relevance", self.relevance.rank),
                ("type_fit", self.type_fit), ("proximity", self.proximity),
                ("overlap", self.overlap), ("words", float(self.words)),
                ("conflict", float(self.conflict)), ("doubt", self.doubt))


def span_features(ctx: Context, lay: Layout, span: tuple[int, int], labels: frozenset[Label],
                  placed_from: int | None, rel: Relevance, w: ReaderWeights) -> Features | None:
    """The features of one trimmed span, or ``None`` when it cannot answer (it repeats the
    question, has no word, or fits the wanted type not at all)."""
    q, s = ctx.question, ctx.sentence
    start, end = span
    text = s.doc_text[start:end]
    qterms = set(q.terms)
    cterms = tokenize(text)
    if cterms:
        overlap = sum(1 for t in cterms if t in qterms) / len(cterms)
    else:
        overlap = 0.0
        if not any(ch.isdigit() for ch in text):
            return None
    if overlap >= 0.999:
        return None  # repeats the question
    fit, label = max((type_fit(q, lab, text, w.types), lab) for lab in labels)
    if (q.expected == DESC and label in (Label.ANCHOR, Label.SEG, Label.GAP)
            and not any(nc.start <= start < nc.end for nc in ctx.noun_chunks)):
        # "What is Ernie Bot?" wants what it is ("a leading Chinese chatbot ..."), not what it
        # does ("highlight the significant potential ...").
        fit *= w.action_for_description
    if q.kind in ("person", "organisation") and label in NAME_LABELS:
        # "... produced by Beijing Zhidemai Technology": the agent of a question verb.
        agent = AGENT.search(s.doc_text[max(s.span.start, start - _AGENT_CHARS) : start])
        if agent and set(tokenize(agent.group(1))) & qterms:
            fit = max(fit, 1.0)
    if q.plural and label != Label.LIST and label in NAME_LABELS:
        fit *= w.one_name_for_several
    if fit <= 0:
        return None
    if cterms and min(ctx.doc_fraction(t) for t in cterms) > COMMON_WORD_FRACTION:
        fit *= w.common_words  # "AI", "LLMs": words all over the corpus are rarely the answer
    prox = proximity(lay, s.word_at(start if placed_from is None else placed_from),
                     s.word_before(end), w)
    conflict = bool(lay.conflicts) and conflicted(lay, s.word_at(start), s.word_before(end), w)
    return Features(label, rel, fit, prox, overlap, len(text.split()), conflict)


def rank_score(f: Features, w: ReaderWeights) -> float:
    limit = w.max_phrase_words if f.label in PHRASE_LABELS else w.max_name_words
    length = 1.0 if f.words <= limit else w.long_span
    score = (f.relevance.rank * (w.base + w.type * f.type_fit + w.proximity * f.proximity)
             * (1 - w.overlap_penalty * f.overlap) * length)
    return score * w.conflict_rank if f.conflict else score


def confidence(f: Features, w: ReaderWeights) -> float:
    conf = (f.relevance.confidence * (w.confidence_type_floor + w.confidence_type_share * f.type_fit)
            * (1 - w.overlap_penalty * f.overlap))
    if f.label == Label.REASON:
        # A reason must attach to what the question asks about ("joined Turkish forces [to aid
        # ...]"), not to any verb in the sentence ("used [to train ChatGPT]").
        conf *= w.reason_proximity_floor + w.reason_proximity_share * f.proximity
    if f.conflict:
        conf *= w.conflict_confidence
    return conf * f.doubt


def weighted_terms(f: Features, w: ReaderWeights) -> tuple[tuple[str, float], ...]:
    """The additive terms of the rank score (each times relevance) and its factors."""
    r = f.relevance.rank
    limit = w.max_phrase_words if f.label in PHRASE_LABELS else w.max_name_words
    return (
        ("base", r * w.base), ("type", r * w.type * f.type_fit),
        ("proximity", r * w.proximity * f.proximity),
        ("x repeats question", 1 - w.overlap_penalty * f.overlap),
        ("x length", 1.0 if f.words <= limit else w.long_span),
        ("x conflict", w.conflict_rank if f.conflict else 1.0),
    )
