"""Where the question's words sit in a sentence, and how close a span is to them.

Distances are counted in words. A relative clause (", which is best known for ...,") between
a word and a span does not separate them; a clause break (", and", ";") does, by several words.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from qa.question import Question
from qa.rules.patterns import CLAUSE_BREAK, OF_NAME, RELATIVE, key, roles
from qa.rules.sentence import Sentence
from qa.rules.weights import ReaderWeights
from qa.tokens import tokenize


@dataclass(frozen=True)
class Layout:
    occurrences: dict[str, list[int]]  # question term -> word indexes where it occurs
    weights: dict[str, float]          # question term -> its weight in closeness
    breaks: tuple[int, ...]            # word indexes where a clause break ends
    clause: tuple[int, ...]            # per word: number of its relative clause, or 0
    focus_words: frozenset[int]        # word indexes of the names asked about
    conflicts: tuple[tuple[int, int], ...]  # word ranges of "<role> of <another name>"


def layout(q: Question, s: Sentence, idf: Callable[[str], float], w: ReaderWeights) -> Layout:
    qterms, focus = set(q.terms), set(q.focus)
    occ: dict[str, list[int]] = {}
    by_class = {key(t): t for t in qterms}
    for t, p in s.token_pos:
        if t in qterms or key(t) in by_class:
            t = t if t in qterms else by_class[key(t)]
            occ.setdefault(t, []).append(s.word_at(p))
    # Words put in for a pronoun locate the sentence, not the answer inside it.
    soft = set(q.topic) | set(q.context)
    weights = {t: idf(t) * (w.proximity_context_term if t in soft else 1.0) for t in occ}
    s0, stext = s.span.start, s.text
    breaks = tuple(s.word_at(s0 + m.start()) + 1 for m in CLAUSE_BREAK.finditer(stext))
    clause = [0] * len(s.word_starts)
    for n, m in enumerate(RELATIVE.finditer(stext), start=1):
        a, b = s.word_before(s0 + m.start()) + 1, s.word_before(s0 + m.end()) + 1
        for k in range(a, min(b, len(clause))):
            clause[k] = n
    focus_words = frozenset(i for t, idxs in occ.items() if t in focus for i in idxs)
    # "Who is the CEO of SenseTime?" is not answered by the name beside "CEO of Baidu".
    conflicts = []
    asked = roles(q.text)
    if asked:
        for m in OF_NAME.finditer(stext):
            head, name = tokenize(m.group(1)), set(tokenize(m.group(2)))
            for role, names in asked:
                if head == [role] and name and not name & names:
                    conflicts.append((s.word_at(s0 + m.start()), s.word_before(s0 + m.end())))
    return Layout(occ, weights, breaks, tuple(clause), focus_words, tuple(conflicts))


def proximity(lay: Layout, w0: int, w1: int, w: ReaderWeights) -> float:
    """IDF-weighted closeness of the words ``[w0, w1]`` to each matched question word: being
    next to the rare words ("founded", "01.AI") matters more than to common ones."""
    if not lay.occurrences:
        return 0.0
    total = 0.0
    for t, idxs in lay.occurrences.items():
        # A question word inside the span does not place it; the span repeats it.
        d = min(
            (_gap(lay, i, w0, w1) + w.clause_break_words * _crossed(lay.breaks, i, w0, w1)
             for i in idxs if not w0 <= i <= w1),
            default=None,
        )
        if d is not None:
            total += lay.weights[t] * math.exp(-d / w.proximity_decay_words)
    return total / sum(lay.weights.values())


def conflicted(lay: Layout, w0: int, w1: int, w: ReaderWeights) -> bool:
    """Whether the words ``[w0, w1]`` sit beside a role of another name than asked about."""
    win = w.conflict_window_words
    return any(b >= w0 - win and a <= w1 + win for a, b in lay.conflicts)


def _gap(lay: Layout, i: int, w0: int, w1: int) -> int:
    """Words between word ``i`` and the span ``[w0, w1]``, not counting those of a relative
    clause that holds neither end, nor the question's own names (the rest of a name asked
    about, "360 Security Technology launched ___", is no distance from the answer)."""
    clause = lay.clause
    lo, hi = (i + 1, w0) if i < w0 else (w1 + 1, i) if i > w1 else (0, 0)
    ends = {clause[i], clause[min(max(w0, 0), len(clause) - 1)]}
    return sum(
        1 for k in range(lo, hi) if (clause[k] == 0 or clause[k] in ends) and k not in lay.focus_words
    )


def _crossed(breaks: tuple[int, ...], i: int, w0: int, w1: int) -> int:
    """How many clause breaks lie between word ``i`` and the span of words ``[w0, w1]``."""
    lo, hi = (i, w0) if i < w0 else (w1, i)
    return sum(1 for b in breaks if lo < b <= hi)
