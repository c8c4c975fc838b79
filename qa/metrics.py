"""Pure evaluation metrics: SQuAD v2.0 answer scores and retrieval ranking scores."""
from __future__ import annotations

import collections
import functools
import math
import re
import string
from collections.abc import Sequence

# Kept free of the NLP stack (spaCy, stemmers) so that training and scoring import light.
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation) | {"\u2018", "\u2019", "\u201c", "\u201d", "\u2013", "\u2014"}


@functools.lru_cache(maxsize=65_536)  # merging candidates compares the same few texts many times
def normalize_answer(s: str) -> str:
    """SQuAD v2.0 normalisation: lower case, drop punctuation, articles and extra spaces.

    The official script drops ASCII punctuation only; curly quotes and dashes are dropped too
    here because the seed articles use them where SQuAD's text uses ASCII.
    """
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


@functools.lru_cache(maxsize=65_536)
def f1(prediction: str, gold: str) -> float:
    """Token F1 between normalised strings (both empty scores 1, as in SQuAD v2.0)."""
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not p or not g:
        return float(p == g)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def answer_scores(prediction: str | None, golds: Sequence[str]) -> tuple[float, float]:
    """(EM, F1), max over gold answers. No golds means unanswerable: 1 only for abstaining."""
    if not golds:
        return (1.0, 1.0) if not prediction else (0.0, 0.0)
    if not prediction:
        return 0.0, 0.0
    return max(exact_match(prediction, g) for g in golds), max(f1(prediction, g) for g in golds)


def recall_at_k(ranked: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """1 if any relevant id is in the top ``k`` (the question is answerable from there)."""
    if not relevant:
        return 0.0
    return float(bool(set(ranked[:k]) & set(relevant)))


def reciprocal_rank(ranked: Sequence[str], relevant: Sequence[str]) -> float:
    rel = set(relevant)
    for i, doc in enumerate(ranked, start=1):
        if doc in rel:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Sequence[str], k: int = 10) -> float:
    """Binary-relevance nDCG over a ranked list of document ids (duplicates count once)."""
    rel = set(relevant)
    if not rel:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in rel and doc not in seen:
            dcg += 1.0 / math.log2(i + 1)
        seen.add(doc)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), k) + 1))
    return dcg / ideal


def dedupe(ids: Sequence[str]) -> list[str]:
    """Document ids in first-seen order (hits are chunks; several may share a document)."""
    return list(dict.fromkeys(ids))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, ``q`` in [0, 100]; 0.0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative
    (ties count half). 0.5 when either class is empty."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return 0.5
    order = sorted((s, i) for i, s in enumerate(list(pos) + list(neg)))
    ranks = [0.0] * len(order)
    i = 0
    while i < len(order):  # average ranks over ties
        j = i
        while j + 1 < len(order) and order[j + 1][0] == order[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k][1]] = (i + j) / 2 + 1
        i = j + 1
    rank_sum = sum(ranks[: len(pos)])
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
