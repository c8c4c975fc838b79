"""The retriever facade: build, search, update, save and load a hybrid index."""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qa import store
from qa.annotate import annotate
from qa.chunking import chunk_document
from qa.config import FusionMethod, RetrieverConfig, SearchMode
from qa.dense import DenseIndex, Encoder
from qa.docstore import Annotations, Chunks, DocStore, Documents
from qa.documents import corpus_fingerprint, corpus_stats, load_folder
from qa.errors import IndexError_, InputError
from qa.fusion import fuse, top_k
from qa.lexical import LexicalIndex, new_lexical
from qa.query import clean_query
from qa.tokens import tokenize
from qa.types import Chunk, Document, Hit

log = logging.getLogger(__name__)

_CANDIDATES = 50  # depth of each component's list before fusion




class Retriever:
    """Hybrid BM25 + dense retriever over sentence-aware chunks.

    Example:
        >>> r = Retriever.from_folder("seeds")
        >>> hit = r.search("Who founded 01.AI?", k=3)[0]
        >>> hit.chunk.doc_id, hit.rank
        ('000_efa03a2983bcb19c', 1)
        >>> r.save("index"); Retriever.load("index").search("Who founded 01.AI?", k=3) == ...
    """

    def __init__(self, config: RetrieverConfig | None = None, encoder: Encoder | None = None):
        self.config = config or RetrieverConfig()
        self.encoder = encoder or Encoder.get(self.config.model)
        # Documents, annotations and chunks: in SQLite once saved, read lazily (qa.docstore).
        self.store = DocStore()
        self.lexical = new_lexical(self.config.lexical, 0, self.config.bm25_k1, self.config.bm25_b)
        self.dense = DenseIndex(self.encoder.dim, self.config.dense_index, self.config.nprobe)
        self.remote = None  # a MilvusIndex when config.backend == "milvus"
        if self.config.backend == "milvus":
            import os

            from qa.milvus_backend import MilvusIndex

            self.remote = MilvusIndex(self.config.uri or "", self.config.collection, self.encoder.dim,
                                      token=os.environ.get("QA_MILVUS_TOKEN"))
        self._next_id = 0
        # Sizes and times of the corpus folder files the index matches (see Retriever.open).
        self.corpus_stats: dict[str, list[int]] | None = None
        self.build_seconds = 0.0

    @property
    def documents(self) -> Documents:
        return self.store.documents

    @property
    def annotations(self) -> Annotations:
        return self.store.annotations

    @property
    def chunks(self) -> Chunks:
        return self.store.chunks

    # ----- building ---------------------------------------------------------------------------
    @classmethod
    def from_documents(
        cls,
        documents: Iterable[Document],
        config: RetrieverConfig | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> "Retriever":
        """Build an index over documents."""
        r = cls(config, encoder)
        r.add_documents(documents)
        return r

    @classmethod
    def from_folder(
        cls, folder: str | Path, config: RetrieverConfig | None = None, **kw
    ) -> "Retriever":
        """Build an index over the ``.txt``, ``.md``, ``.html`` and ``.pdf`` files of a folder."""
        return cls.from_documents(load_folder(folder), config, **kw)

    def add_documents(self, documents: Iterable[Document]) -> list[str]:
        """Add documents, replacing any with the same id. Only new chunks are embedded.

        Returns:
            the ids added.
        """
        docs = list(documents)
        ids = [d.doc_id for d in docs]
        if len(set(ids)) != len(ids):
            raise InputError(f"duplicate document ids in one call: {sorted(ids)}")
        if not docs:
            return []
        t0 = time.perf_counter()
        self.remove_documents([i for i in ids if i in self.documents])
        anns = annotate(docs)
        new_chunks: list[Chunk] = []
        for doc, ann in zip(docs, anns):
            self.documents[doc.doc_id] = doc
            self.annotations[doc.doc_id] = ann
            for c in chunk_document(doc.doc_id, doc.text, ann.sentences, self.config.chunk):
                new_chunks.append(dataclasses.replace(c, chunk_id=self._next_id))
                self._next_id += 1
        vecs = self.encoder.encode([c.text for c in new_chunks], batch_size=self.config.batch_size)
        self._insert(new_chunks, [tokenize(c.text) for c in new_chunks], vecs)
        self.build_seconds += time.perf_counter() - t0
        log.info("indexed %d documents, %d chunks", len(docs), len(new_chunks))
        return ids

    def _insert(self, chunks: list[Chunk], terms: list[list[str]], vecs: np.ndarray) -> None:
        for c in chunks:
            self.chunks[c.chunk_id] = c
        if isinstance(self.lexical, LexicalIndex) and new_lexical(
                self.config.lexical, len(self.chunks)).name != self.lexical.name:
            # Grown past what rank-bm25 scores quickly: move the stored terms to tantivy.
            log.info("moving BM25 to tantivy at %d chunks", len(self.chunks))
            old, self.lexical = self.lexical, new_lexical(self.config.lexical, len(self.chunks))
            self.lexical.add(old.ids, old.terms)
        self.lexical.add([c.chunk_id for c in chunks], terms)
        if self.remote is not None:
            self.remote.add(chunks, vecs)  # vectors live in Milvus only
        else:
            self.dense.add([c.chunk_id for c in chunks], vecs)

    def remove_documents(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents and their chunks from both indexes. Unknown ids are ignored."""
        gone = {d for d in doc_ids if d in self.documents}
        if not gone:
            return []
        dead = self.chunks.ids_of(gone)
        self.lexical.remove(dead)
        if self.remote is not None:
            self.remote.remove(dead)
        else:
            self.dense.remove(dead)
        for cid in dead:
            del self.chunks[cid]
        for d in gone:
            del self.documents[d]
            del self.annotations[d]
        return sorted(gone)

    def sync(self, documents: Sequence[Document]) -> bool:
        """Update the index to hold exactly ``documents``, touching only what changed.

        Returns:
            True when anything changed.
        """
        want = corpus_fingerprint(documents)
        have = self.store.fingerprints()
        removed = [d for d in have if d not in want]
        changed = [d for d in documents if have.get(d.doc_id) != want[d.doc_id]]
        self.remove_documents(removed)
        self.add_documents(changed)
        return bool(removed or changed)

    # ----- corpus statistics for readers (qa.corpus.CorpusView) -----------------------------
    def idf(self, term: str) -> float:
        """Inverse document frequency of a BM25 term; unseen terms get the highest value."""
        return self.lexical.idf(term)

    def doc_fraction(self, term: str) -> float:
        """Share of chunks holding a BM25 term (0 for unseen terms)."""
        return self.lexical.doc_fraction(term)

    def fingerprint(self) -> dict[str, str]:
        return self.store.fingerprints()

    # ----- searching --------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: SearchMode | str | None = None,
        fusion: FusionMethod | str | None = None,
        dense_weight: float | None = None,
    ) -> list[Hit]:
        """Top-``k`` chunks for a query.

        Args:
            k: number of hits; larger than the number of chunks is clamped.
            mode: ``hybrid``, ``bm25`` or ``dense``; defaults to the config.
            fusion: ``weighted`` or ``rrf`` for hybrid mode; defaults to the config.

        Raises:
            InputError: empty or over-long query, k < 1, unknown mode or fusion method.
        """
        query = clean_query(query)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InputError(f"k must be a whole number >= 1, got {k!r}")
        mode = SearchMode.parse(mode if mode is not None else self.config.mode)
        fusion = FusionMethod.parse(fusion if fusion is not None else self.config.fusion)
        weight = self.config.dense_weight if dense_weight is None else dense_weight
        n = len(self.chunks)
        k = min(k, n)
        if k == 0:
            return []
        depth = max(k, _CANDIDATES)
        if self.remote is not None:
            qv = None if mode is SearchMode.BM25 else self.encoder.encode_query(query)
            ranked, lex, den = self.remote.search(query, qv, depth, mode, fusion, weight, self.config.rrf_k)
            return self._hits([(c, s) for c, s in ranked if c in self.chunks][:k], lex, den)
        lexical: dict[int, float] = {}
        dense: dict[int, float] = {}
        terms = tokenize(query)
        if mode is not SearchMode.DENSE:
            lexical = self.lexical.top(terms, depth)
            if mode is SearchMode.BM25:
                ranked = top_k(lexical, k)
                return self._hits(ranked, lexical, None)
        qvec = self.encoder.encode_query(query)
        dense = self.dense.search(qvec, depth)
        if mode is SearchMode.DENSE:
            return self._hits(top_k(dense, k), None, dense)
        # Each fused candidate keeps both component scores, so fill in the missing ones.
        missing = [cid for cid in lexical if cid not in dense]
        dense.update(self.dense.scores_for(qvec, missing))
        lexical.update(self.lexical.scores_for(terms, [cid for cid in dense if cid not in lexical]))
        fused = fuse(fusion, lexical, dense, dense_weight=weight, rrf_k=self.config.rrf_k)
        return self._hits(top_k(fused, k), lexical, dense)

    def _hits(
        self,
        ranked: list[tuple[int, float]],
        lexical: dict[int, float] | None,
        dense: dict[int, float] | None,
    ) -> list[Hit]:
        return [
            Hit(
                chunk=self.chunks[cid],
                score=score,
                rank=rank,
                lexical_score=None if lexical is None else lexical.get(cid, 0.0),
                dense_score=None if dense is None else dense.get(cid),
            )
            for rank, (cid, score) in enumerate(ranked, start=1)
        ]

    # ----- persistence (the format lives in qa.store) -----------------------------------------
    def manifest(self) -> dict:
        return store.manifest(self)

    def save(self, directory: str | Path) -> None:
        """Write the index to a directory atomically (the old one stays until the swap)."""
        store.save_index(self, Path(directory))

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        encoder: Encoder | None = None,
        config: RetrieverConfig | None = None,
    ) -> "Retriever":
        """Load a saved index.

        Args:
            config: search-time settings to use instead of the saved ones (mode, fusion,
                weights). Fields that shape the index must match the saved index.

        Raises:
            IndexError_: missing, corrupt or incompatible index; rebuild with ``qa index``.
        """
        directory = Path(directory)
        try:
            return store.load_index(cls, directory, encoder, config)
        except IndexError_ as exc:
            raise IndexError_(f"{exc}. {store.rebuild_hint(directory)}") from None

    @classmethod
    def open(
        cls,
        directory: str | Path,
        corpus: str | Path | Sequence[Document],
        config: RetrieverConfig | None = None,
        *,
        encoder: Encoder | None = None,
        folder_stats: dict[str, list[int]] | None = None,
    ) -> "Retriever":
        """Load the index in ``directory``, building or updating it to match ``corpus``.

        ``folder_stats`` (:func:`qa.documents.corpus_stats`, taken before reading) says which
        folder a list of documents was read from, so a later open of that folder reads nothing
        when nothing changed.

        A missing index is built; one of other settings, model or format is rebuilt. Changed
        documents are updated incrementally, and saved. A corrupt index raises.
        """
        directory = Path(directory)
        folder = Path(corpus) if isinstance(corpus, (str, Path)) else None
        if folder is not None:
            store.check_not_inside(directory, folder)
        store.check_target(directory)
        # Taken before any file is read, so a file changed during the read is seen next time.
        stats = corpus_stats(folder) if folder is not None else folder_stats
        given, config = config, config or RetrieverConfig()
        read: list[Document] = []

        def documents() -> list[Document]:  # the corpus is read only when needed
            if not read:
                read.extend(load_folder(folder) if folder is not None else corpus)
            return read

        def build(reason: str) -> "Retriever":
            log.info("%s; building %s", reason, directory)
            r = cls.from_documents(documents(), config, encoder=encoder)
            r.corpus_stats = stats
            r.save(directory)
            return r

        if not (directory / store.MANIFEST).exists():
            return build("no index")
        try:
            manifest = store.read_manifest(directory)
        except store.FormatVersionError:
            return build("index saved in another format")  # the corpus is here to rebuild from
        except IndexError_ as exc:
            raise IndexError_(f"{exc}. {store.rebuild_hint(directory)}") from None
        if given is None and (manifest.get("index_key") or {}).get("backend") == "milvus":
            config = store.saved_config(directory, manifest)  # a Milvus index stays on Milvus
        if (manifest.get("index_key") != json.loads(json.dumps(config.index_key()))
                or not manifest.get("checksums")):  # other settings, or saved before checksums
            return build("index settings changed")
        r = cls.load(directory, encoder=encoder, config=config)
        if folder is not None and stats == r.corpus_stats:
            return r  # no file changed size or time: nothing read
        # A list of documents is always synced: it is what the caller holds (the server's:
        # corpus and uploads); its folder's stats are only recorded.
        r._sync_and_save(directory, documents(), stats)
        return r

    def _sync_and_save(self, directory: Path, docs: Sequence[Document], stats) -> None:
        changed = self.sync(docs)
        if not changed and (stats is None or stats == self.corpus_stats):
            return
        if changed:
            log.info("corpus changed; index updated in %s", directory)
        self.corpus_stats = stats if stats is not None else self.corpus_stats
        try:
            self.save(directory)
        except IndexError_ as exc:
            # A read-only index still answers: from the corpus as it is now, unsaved.
            log.warning("the corpus changed but the index could not be saved (%s); "
                        "answering from the updated index in memory", exc)
