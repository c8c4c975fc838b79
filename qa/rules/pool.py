"""Term statistics over the retrieved candidate pool, not the whole corpus.

The rule reader weighs question words by IDF and calls a word "common" when a fifth of the
passages hold it. Taken over the whole corpus, both move when unrelated documents are added:
a hundred SQuAD paragraphs made "AI" rare in a corpus about AI, and changed 20 of 97 answers
(eval/README.md, stability). Over the passages retrieved for the question (the fusion's 50
candidates) they describe the neighbourhood the answer is read from, which unrelated documents
barely enter; on a corpus smaller than the pool they are exactly the corpus-wide figures.

The formulas are rank-bm25's (Okapi IDF, negative values floored at a quarter of the average),
so that on such a corpus nothing changes.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

POOL = 50  # candidates per engine before fusion (qa.retriever)
_EPSILON = 0.25


@dataclass(frozen=True)
class PoolStats:
    """``idf`` and ``doc_fraction`` over a set of passages, each given as its set of terms."""

    n: int
    df: dict[str, int]
    _idf: dict[str, float] = field(repr=False)
    _max_idf: float = field(repr=False)

    @classmethod
    def of(cls, passages: Iterable[frozenset[str]]) -> "PoolStats":
        df: dict[str, int] = {}
        n = 0
        for terms in passages:
            n += 1
            for t in terms:
                df[t] = df.get(t, 0) + 1
        raw = {t: math.log(n - f + 0.5) - math.log(f + 0.5) for t, f in df.items()}
        floor = _EPSILON * (sum(raw.values()) / len(raw)) if raw else 0.0
        idf = {t: (v if v >= 0 else floor) for t, v in raw.items()}
        return cls(n, df, idf, max(idf.values(), default=1.0))

    def idf(self, term: str) -> float:
        """Inverse document frequency in the pool; unseen terms get the highest value."""
        if not self.n:
            return 1.0
        return max(float(self._idf.get(term, self._max_idf)), 0.05)

    def doc_fraction(self, term: str) -> float:
        """Share of the pool's passages holding the term (0 for unseen terms)."""
        return self.df.get(term, 0) / self.n if self.n else 0.0
