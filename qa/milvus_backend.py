"""The Milvus search backend: BM25 and dense search in a Milvus collection, fused by Milvus.

``RetrieverConfig(backend="milvus", uri=...)`` sends every search to Milvus: full-text BM25
through Milvus's own BM25 function (on a ``terms`` field holding qa's normalised terms of the
chunk, see :func:`terms_text`), dense search on the chunk vectors, and
Milvus's hybrid search (weighted or RRF ranker) to fuse them. The results become the same
:class:`qa.types.Hit` objects as the embedded backend's, with the fused score and both
component scores, so the reader, UI and API do not know which backend answered.

What stays in the local index folder: documents, annotations and the chunk table (the reader
needs the full document text and its sentences), and the BM25 term statistics the rule reader
asks for (``idf``, ``doc_fraction``). The vectors live only in Milvus. The collection is keyed
by chunk id, so a crash between a Milvus write and the local save is repaired on the next open
(:meth:`MilvusIndex.reconcile`): extra rows are deleted and missing ones re-embedded.

Needs the ``milvus`` extra (``pymilvus``; ``milvus-lite`` for a local server in tests).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from qa.config import FusionMethod, SearchMode
from qa.errors import IndexError_
from qa.types import Chunk

log = logging.getLogger(__name__)

TEXT_MAX = 65_535  # Milvus's VARCHAR limit, in bytes
_BATCH = 500


def _client(uri: str, token: str | None, timeout: float):
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise IndexError_("the milvus backend needs pymilvus: pip install 'qa[milvus]'") from None
    try:
        return MilvusClient(uri=uri, token=token or "", timeout=timeout)
    except Exception as exc:  # connection refused, bad URI, authentication...
        raise IndexError_(f"cannot connect to Milvus at {uri} ({type(exc).__name__}: {exc}); "
                          "check that the server is running and the URI is right") from None


def terms_text(text: str) -> str:
    """The text Milvus's BM25 analyses: qa's own terms (:mod:`qa.tokens`: normalised, stop
    words dropped, lemmatised), space-separated. Milvus's standard analyzer then sees the same
    terms as the embedded BM25, whatever stemmer the server has (milvus-lite has none), so both
    backends rank alike."""
    from qa.tokens import tokenize

    return " ".join(tokenize(text))


class MilvusIndex:
    """One Milvus collection of chunks: id, document id, offsets, text, BM25 and dense vectors."""

    name = "milvus"

    def __init__(self, uri: str, collection: str, dim: int, token: str | None = None,
                 timeout: float = 30.0) -> None:
        self.uri, self.collection, self.dim = uri, collection, dim
        self.client = _client(uri, token, timeout)
        if not self.client.has_collection(collection):
            self._create()
        self.client.load_collection(collection)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self.client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard", "filter": ["lowercase"]})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"], output_field_names=["sparse"]))
        params = self.client.prepare_index_params()
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        # Vectors are normalised, so inner product is cosine; AUTOINDEX lets Milvus pick.
        params.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="IP")
        self.client.create_collection(self.collection, schema=schema, index_params=params)
        log.info("created Milvus collection %s at %s", self.collection, self.uri)

    # ----- writing ----------------------------------------------------------------------------
    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        rows = [{"id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end,
                 "text": c.text[: TEXT_MAX // 4], "terms": terms_text(c.text)[: TEXT_MAX // 4], "dense": vectors[i].astype(np.float32).tolist()}
                for i, c in enumerate(chunks)]
        for i in range(0, len(rows), _BATCH):
            self.client.insert(self.collection, rows[i : i + _BATCH])

    def remove(self, ids: Iterable[int]) -> None:
        ids = sorted(int(i) for i in ids)
        for i in range(0, len(ids), _BATCH):
            self.client.delete(self.collection, ids=ids[i : i + _BATCH])

    def ids(self) -> set[int]:
        """Every chunk id in the collection (paged, so any size works)."""
        out: set[int] = set()
        it = self.client.query_iterator(self.collection, filter="id >= 0", output_fields=["id"],
                                        batch_size=1000)
        try:
            while page := it.next():
                out.update(int(r["id"]) for r in page)
        finally:
            it.close()
        return out

    def reconcile(self, chunks: dict[int, Chunk], encode) -> tuple[int, int]:
        """Make the collection hold exactly ``chunks``: delete extra rows, embed missing ones
        with ``encode(texts)``. Returns (deleted, added)."""
        have = self.ids()
        extra = have - set(chunks)
        missing = [chunks[i] for i in sorted(set(chunks) - have)]
        if extra:
            self.remove(extra)
        if missing:
            self.add(missing, encode([c.text for c in missing]))
        if extra or missing:
            log.warning("Milvus collection %s out of step with the index: %d rows deleted, "
                        "%d added", self.collection, len(extra), len(missing))
        return len(extra), len(missing)

    def drop(self) -> None:
        self.client.drop_collection(self.collection)

    # ----- searching --------------------------------------------------------------------------
    def _component(self, data, field: str, metric: str, depth: int) -> dict[int, float]:
        res = self.client.search(self.collection, data=[data], anns_field=field, limit=depth,
                                 search_params={"metric_type": metric}, output_fields=["id"])
        # BM25 scores are never negative; some servers report them as negated distances.
        return {int(h["id"]): abs(float(h["distance"])) if metric == "BM25" else float(h["distance"])
                for h in res[0]}

    def search(self, query: str, qvec: np.ndarray | None, depth: int, mode: SearchMode,
               fusion: FusionMethod, dense_weight: float, rrf_k: int
               ) -> tuple[list[tuple[int, float]], dict[int, float] | None, dict[int, float] | None]:
        """Ranked (chunk id, score) pairs and the two component score maps (``None`` for a
        component the mode does not use)."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        vec = None if qvec is None else np.asarray(qvec, dtype=np.float32).tolist()
        query = terms_text(query) or query
        if mode is SearchMode.BM25:
            lexical = self._component(query, "sparse", "BM25", depth)
            return sorted(lexical.items(), key=lambda x: (-x[1], x[0])), lexical, None
        dense = self._component(vec, "dense", "IP", depth)
        if mode is SearchMode.DENSE:
            return sorted(dense.items(), key=lambda x: (-x[1], x[0])), None, dense
        lexical = self._component(query, "sparse", "BM25", depth)
        reqs = [AnnSearchRequest(data=[query], anns_field="sparse", param={"metric_type": "BM25"},
                                 limit=depth),
                AnnSearchRequest(data=[vec], anns_field="dense", param={"metric_type": "IP"},
                                 limit=depth)]
        ranker = (RRFRanker(rrf_k) if fusion is FusionMethod.RRF
                  else WeightedRanker(1.0 - dense_weight, dense_weight))
        res = self.client.hybrid_search(self.collection, reqs, ranker, limit=depth, output_fields=["id"])
        ranked = [(int(h["id"]), float(h["distance"])) for h in res[0]]
        # Every fused hit keeps both component scores, as on the embedded backend: a chunk
        # outside the dense candidates gets its cosine from its stored vector; one outside the
        # BM25 candidates matched too few query terms to rank and keeps 0.
        missing = [c for c, _ in ranked if c not in dense]
        if missing:
            rows = self.client.get(self.collection, ids=missing, output_fields=["dense"])
            q = np.asarray(qvec, dtype=np.float32)
            dense.update({int(r["id"]): float(np.dot(np.asarray(r["dense"], dtype=np.float32), q)) for r in rows})
        for c, _ in ranked:
            lexical.setdefault(c, 0.0)
        return ranked, lexical, dense
