"""The rule reader: typed span selection over annotated sentences.

It works from what indexing stored (sentences, named entities, noun chunks), so no model is
needed. For each sentence of the retrieved passages it measures how much of the question the
sentence covers (:mod:`qa.rules.relevance`), proposes spans (:mod:`qa.rules.generators`),
describes each by typed features (:mod:`qa.rules.features`) and scores them with named
weights (:mod:`qa.rules.weights`). This class only wires those parts.
"""
from __future__ import annotations

import bisect
import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answers import span_answer
from qa.config import ReaderConfig
from qa.corpus import CorpusView
from qa.labels import Label
from qa.lru import LRU
from qa.question import Question, analyze
from qa.rules.dense_check import DenseCheck
from qa.rules.features import Features, confidence, rank_score, span_features, weighted_terms
from qa.rules.generators import propose
from qa.rules.layout import layout
from qa.rules.pool import PoolStats
from qa.rules.relevance import question_terms, sentence_relevance
from qa.rules.sentence import Context, Sentence
from qa.rules.weights import ReaderWeights
from qa.tokens import tokenize
from qa.types import Answer, Chunk, Explanation, Hit, Span

_SENTENCE_CACHE = 200_000
_CHUNK_CACHE = 20_000  # term sets of pool passages, keyed by their text (~400 chars each)
_POOL_CACHE = 64  # questions whose passages' candidates are kept (a staged read, a conversation)


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    span: Span
    label: Label
    sentence: Span
    score: float
    hit: Hit
    confidence: float = 0.0
    features: Features | None = None


@dataclass
class _PoolRead:
    """What reading one question's pool has found so far: its statistics, then each passage's
    candidates in order, and the sentences those passages took."""

    stats: tuple
    per_hit: list = dataclasses.field(default_factory=list)
    seen: set = dataclasses.field(default_factory=set)
    # The server answers in threads: two requests for the same question extend it in turn.
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


class RuleReader:
    """Extracts ranked answers from retrieved hits.

    Example:
        >>> reader = RuleReader(retriever)          # any qa.corpus.CorpusView
        >>> reader.read("Who founded 01.AI?", retriever.search("Who founded 01.AI?"))[0].text
        'Lee Kai-fu'
    """

    name = "rules"
    default_threshold = 0.29  # calibrated on the seed set's calibration half (eval/README.md)

    def __init__(self, corpus: CorpusView, config: ReaderConfig | None = None,
                 weights: ReaderWeights | None = None, encoder=None) -> None:
        self.corpus = corpus
        self.config = config or ReaderConfig()
        self.weights = weights or ReaderWeights()
        self.dense = DenseCheck(encoder, corpus.documents) if encoder is not None else None
        self._sentences: dict[tuple[str, int], Sentence] = {}
        self._chunks: dict[str, frozenset[str]] = {}
        self._meta: dict[tuple, frozenset[str]] = {}
        self._pool_cache = LRU(_POOL_CACHE)

    def read(self, question: str | Question, hits: Sequence[Hit], passages: int | None = None) -> list[Answer]:
        """One answer per candidate span, best first (grouping happens in qa.answers). Reads the
        first ``passages`` hits (the config's number by default); all of ``hits`` give the
        term statistics."""
        q = question if isinstance(question, Question) else analyze(question)
        cands = self.candidates(q, hits, passages)
        weight = self.weights.dense_check.get(q.kind)
        if self.dense is not None and self.config.dense_check and weight:
            cands = self.dense.rerank(q, cands, weight, self.weights.dense_top)
        return [self._answer(c) for c in sorted(cands, key=lambda c: -c.score)]

    def candidates(self, question: str | Question, hits: Sequence[Hit],
                   passages: int | None = None) -> list[Candidate]:
        """Every scored candidate span, before merging (for inspection and tuning)."""
        q = question if isinstance(question, Question) else analyze(question)
        pool = tuple(hits)  # the retrieved candidates: their statistics, not the corpus's
        hits = pool[: passages or self.config.passages]
        if not hits or not q.terms:
            return []
        top_hit = max(h.score for h in hits) or 1.0
        # A passage's candidates depend on the question, the pool (its term statistics, and
        # the sentences earlier passages already took) and the top score; a staged read asks
        # for the top 1, then 2, then 5 passages of the same pool, so each is scored once.
        key = (q, tuple((h.chunk.doc_id, h.chunk.start, h.chunk.text, h.score) for h in pool), top_hit)
        state = self._pool_cache.get(key)
        if state is None:
            state = _PoolRead(self._pool_stats(q, pool))
            self._pool_cache.put(key, state)
        with state.lock:
            for hit in hits[len(state.per_hit):]:
                state.per_hit.append(self._hit_candidates(q, hit, state, top_hit))
            return [c for found in state.per_hit[: len(hits)] for c in found]

    def clear_cache(self) -> None:
        """Forget the passages read so far (benchmarks time every question cold)."""
        self._pool_cache.clear()
        if self.dense is not None:
            self.dense.clear_cache()

    def _pool_stats(self, q: Question, pool: Sequence[Hit]):
        stats = PoolStats.of(self._chunk_terms(h.chunk) for h in pool)
        # Titles and publishers of the pool's documents count as words the pool uses.
        meta = frozenset().union(*(self._meta_terms(d) for d in {h.chunk.doc_id for h in pool}))
        return stats, question_terms(q, stats.idf, stats.doc_fraction, meta, self.weights)

    def _hit_candidates(self, q: Question, hit: Hit, state: "_PoolRead", top_hit: float) -> tuple:
        (stats, qt), w = state.stats, self.weights
        doc_id = hit.chunk.doc_id
        sents = self.corpus.annotations[doc_id].sentences
        out: list[Candidate] = []
        for i in self._sentences_in(hit.chunk):
            if (doc_id, sents[i].start) in state.seen:
                continue
            state.seen.add((doc_id, sents[i].start))
            cur = self._sentence(doc_id, sents[i])
            near = [self._sentence(doc_id, sents[j]).terms if 0 <= j < len(sents) else frozenset()
                    for j in (i - 1, i + 1)]
            rel = sentence_relevance(q, qt, cur.terms, near[0], near[1], self._meta_terms(doc_id),
                                     hit.score, top_hit, w)
            if rel is not None:
                out += self._spans(q, cur, rel, hit, qt.doubt, stats)
        return tuple(out)

    def _spans(self, q: Question, s: Sentence, rel, hit: Hit, doubt: float,
               stats: PoolStats) -> list[Candidate]:
        ctx = Context.of(q, s, self.corpus.annotations.get(s.doc_id), stats.doc_fraction)
        found = propose(ctx, self.config.max_answer_chars)
        lay = layout(q, s, stats.idf, self.weights)
        out = []
        for span, labels in found.labels.items():
            f = span_features(ctx, lay, span, labels, found.placed.get(span), rel, self.weights)
            if f is None:
                continue
            f = dataclasses.replace(f, doubt=doubt)
            out.append(Candidate(s.doc_id, Span(*span), f.label, s.span, rank_score(f, self.weights),
                                 hit, confidence(f, self.weights), f))
        return out

    def _answer(self, c: Candidate) -> Answer:
        doc = self.corpus.documents[c.doc_id]
        explanation = Explanation(
            self.name,
            features=(("rank_score", c.score), ("confidence", c.confidence))
            + (c.features.as_pairs() if c.features else ()),
            terms=weighted_terms(c.features, self.weights) if c.features else (),
        )
        return span_answer(
            doc.text[c.span.start : c.span.end], c.doc_id, c.span, c.hit, title=doc.title,
            score=c.confidence, rank_score=c.score,
            sentence=doc.text[c.sentence.start : c.sentence.end], sentence_span=c.sentence,
            answer_type=c.label, explanation=explanation,
        )

    # ----- stored annotations, cached ---------------------------------------------------------
    # Each cache checks what it was made from, so a document replaced under the same id (an
    # upload sent again, add_documents on the retriever) is never read from a stale entry.
    def _sentence(self, doc_id: str, span: Span) -> Sentence:
        text = self.corpus.documents[doc_id].text
        s = self._sentences.get((doc_id, span.start))
        if s is None or s.doc_text != text:
            if len(self._sentences) > _SENTENCE_CACHE:
                self._sentences.clear()
            s = self._sentences[(doc_id, span.start)] = Sentence.of(doc_id, text, span)
        return s

    def _chunk_terms(self, chunk: Chunk) -> frozenset[str]:
        terms = self._chunks.get(chunk.text)
        if terms is None:
            if len(self._chunks) > _CHUNK_CACHE:
                self._chunks.clear()
            terms = self._chunks[chunk.text] = frozenset(tokenize(chunk.text))
        return terms

    def _meta_terms(self, doc_id: str) -> frozenset[str]:
        """Words of a document's title and publisher: context for all of its sentences."""
        d = self.corpus.documents[doc_id]
        key = (d.title, d.publisher)
        terms = self._meta.get(key)
        if terms is None:
            if len(self._meta) > _SENTENCE_CACHE:
                self._meta.clear()
            terms = self._meta[key] = frozenset(tokenize(" ".join(p for p in key if p)))
        return terms

    def _sentences_in(self, chunk: Chunk) -> list[int]:
        sents = self.corpus.annotations[chunk.doc_id].sentences
        lo = bisect.bisect_left(sents, Span(chunk.start, chunk.start))
        hi = bisect.bisect_left(sents, Span(chunk.end, chunk.end), lo)
        return list(range(lo, hi))
