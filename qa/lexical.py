"""The lexical engines: BM25 over chunk terms, behind one interface.

``rank-bm25`` (the project's reference scorer) keeps every chunk's terms in memory and scores
all chunks in Python: exact and simple, right for small corpora. ``tantivy``
(:mod:`qa.lexical_tantivy`) is an on-disk inverted index for large ones. With
``RetrieverConfig(lexical="auto")`` an index moves to tantivy once it holds more than
``AUTO_TANTIVY_CHUNKS`` chunks, a size chosen by ``qa bench --scale`` (eval/README.md).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

from qa.errors import IndexError_

# Past this many chunks rank-bm25 costs more than a few milliseconds a query (2.5 ms at 2,000
# chunks, 35 ms at 20,000; tantivy stays under 1 ms): eval/README.md, scale benchmark.
AUTO_TANTIVY_CHUNKS = 5_000


def new_lexical(engine: str, chunks: int, k1: float = 1.2, b: float = 0.75):
    """An empty engine for ``engine`` ("auto" picks by the number of chunks to hold)."""
    if engine == "tantivy" or (engine == "auto" and chunks > AUTO_TANTIVY_CHUNKS):
        from qa.lexical_tantivy import TantivyIndex

        return TantivyIndex()
    return LexicalIndex(k1, b)


def load_lexical(directory: Path, engine: str):
    """The engine a saved index was written with."""
    if engine == "tantivy":
        from qa.lexical_tantivy import TantivyIndex

        return TantivyIndex.load(directory / TantivyIndex.FILE)
    if engine != LexicalIndex.name:
        raise IndexError_(f"unknown lexical engine {engine!r} in {directory}")
    return LexicalIndex.load(directory / LexicalIndex.FILE)


class LexicalIndex:
    """BM25 statistics over a list of (chunk id, terms).

    Adding or removing chunks recomputes document frequencies and average length from the
    stored terms, which is cheap, so statistics always match the chunks present.
    """

    name = "rank-bm25"
    FILE = "bm25.json"

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self.ids: list[int] = []
        self.terms: list[list[str]] = []
        self._bm25: BM25Okapi | None = None
        self._df: dict[str, int] = {}
        self._pos: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, ids: Sequence[int], terms: Sequence[Sequence[str]]) -> None:
        self.ids.extend(ids)
        self.terms.extend(list(t) for t in terms)
        self._refit()

    def remove(self, ids: set[int]) -> None:
        keep = [i for i, cid in enumerate(self.ids) if cid not in ids]
        self.ids = [self.ids[i] for i in keep]
        self.terms = [self.terms[i] for i in keep]
        self._refit()

    def _refit(self) -> None:
        df: dict[str, int] = {}
        for terms in self.terms:
            for t in set(terms):
                df[t] = df.get(t, 0) + 1
        self._df = df
        self._pos = {}
        # rank-bm25 divides by the corpus size, and an all-empty corpus has no statistics.
        if self.terms and any(self.terms):
            # A chunk with no terms still needs a placeholder for the average-length math.
            self._bm25 = BM25Okapi([t or ["\x00"] for t in self.terms], k1=self.k1, b=self.b)
        else:
            self._bm25 = None

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk, in ``self.ids`` order."""
        if self._bm25 is None or not query_terms:
            return np.zeros(len(self.ids), dtype=np.float64)
        return np.asarray(self._bm25.get_scores(list(query_terms)), dtype=np.float64)

    def top(self, query_terms: Sequence[str], k: int) -> dict[int, float]:
        """The ``k`` best chunk ids by BM25, best first; chunks with none of the terms are not
        matches (as in any inverted index)."""
        scores = self.scores(query_terms)
        if not len(scores) or k <= 0 or not query_terms:
            return {}
        order = np.argsort(-scores, kind="stable")[:k]
        return {self.ids[i]: float(scores[i]) for i in order if scores[i] > 0}

    def scores_for(self, query_terms: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        """BM25 scores of given chunks."""
        if not ids:
            return {}
        if self._bm25 is None or not query_terms:
            return {int(i): 0.0 for i in ids}
        if len(self._pos) != len(self.ids):
            self._pos = {cid: n for n, cid in enumerate(self.ids)}
        got = self._bm25.get_batch_scores(list(query_terms), [self._pos[int(i)] for i in ids])
        return {int(i): float(s) for i, s in zip(ids, got)}

    def doc_fraction(self, term: str) -> float:
        """Share of chunks that contain the term (0 for unseen terms)."""
        return self._df.get(term, 0) / len(self.terms) if self.terms else 0.0

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term; unseen terms get the highest value."""
        if self._bm25 is None:
            return 1.0
        value = self._bm25.idf.get(term)
        if value is None:
            value = max(self._bm25.idf.values(), default=1.0)
        # rank-bm25 floors very common terms at epsilon * average idf; keep weights positive.
        return max(float(value), 0.05)

    def save(self, path: Path) -> None:
        data = {"k1": self.k1, "b": self.b, "ids": self.ids, "terms": self.terms}
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "LexicalIndex":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            index = cls(float(data["k1"]), float(data["b"]))
            index.ids = [int(i) for i in data["ids"]]
            index.terms = [list(t) for t in data["terms"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexError_(f"BM25 state {path} is unreadable ({exc})") from exc
        if len(index.ids) != len(index.terms):
            raise IndexError_(f"BM25 state {path} is inconsistent (ids and terms differ)")
        index._refit()
        return index
