"""What a reader may know of the indexed corpus: the narrow interface between the halves.

Readers see documents, their stored annotations and two term statistics, never the index's
internals. :class:`qa.retriever.Retriever` implements it; :class:`SimpleCorpus` does for a few
hand-made documents (tests, embedding a reader without an index).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from qa.annotate import Annotation
from qa.tokens import tokenize
from qa.types import Document


@runtime_checkable
class CorpusView(Protocol):
    documents: Mapping[str, Document]
    annotations: Mapping[str, Annotation]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a BM25 term; unseen terms get the highest value."""
        ...

    def doc_fraction(self, term: str) -> float:
        """Share of chunks holding a BM25 term (0 for unseen terms)."""
        ...


@dataclass(frozen=True)
class SimpleCorpus:
    """A corpus view over documents held in memory, each document counted as one chunk."""

    documents: Mapping[str, Document]
    annotations: Mapping[str, Annotation]
    _df: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        df: dict[str, int] = {}
        for d in self.documents.values():
            for t in set(tokenize(d.text)):
                df[t] = df.get(t, 0) + 1
        object.__setattr__(self, "_df", df)

    def idf(self, term: str) -> float:
        import math

        n = max(len(self.documents), 1)
        return math.log(1 + (n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def doc_fraction(self, term: str) -> float:
        return self._df.get(term, 0) / len(self.documents) if self.documents else 0.0
