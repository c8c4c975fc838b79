"""The retriever facade: build, search, update, save and load a hybrid index."""
from __future__ import annotations

import dataclasses
import json
import logging
import platform
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qa import __version__
from qa import store
from qa.annotate import Annotation, annotate
from qa.chunking import chunk_document
from qa.config import FusionMethod, RetrieverConfig, SearchMode, from_json, to_json
from qa.dense import DenseIndex, Encoder
from qa.documents import corpus_fingerprint, load_folder
from qa.errors import IndexError_, InputError
from qa.fusion import fuse, top_k
from qa.lexical import LexicalIndex, load_lexical, new_lexical
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
        self.documents: dict[str, Document] = {}
        self.annotations: dict[str, Annotation] = {}
        self.chunks: dict[int, Chunk] = {}
        self.lexical = new_lexical(self.config.lexical, 0, self.config.bm25_k1, self.config.bm25_b)
        self.dense = DenseIndex(self.encoder.dim)
        self._next_id = 0
        self.build_seconds = 0.0

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
        self.dense.add([c.chunk_id for c in chunks], vecs)

    def remove_documents(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents and their chunks from both indexes. Unknown ids are ignored."""
        gone = {d for d in doc_ids if d in self.documents}
        if not gone:
            return []
        dead = {cid for cid, c in self.chunks.items() if c.doc_id in gone}
        self.lexical.remove(dead)
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
        have = corpus_fingerprint(self.documents.values())
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
        return corpus_fingerprint(self.documents.values())

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

    # ----- persistence ------------------------------------------------------------------------
    def manifest(self) -> dict:
        import faiss
        import sentence_transformers

        return {
            "format_version": store.FORMAT_VERSION,
            "package_version": __version__,
            "model": self.config.model,
            "dim": self.encoder.dim,
            "config": to_json(self.config),
            "index_key": self.config.index_key(),
            "corpus_fingerprint": self.fingerprint(),
            "documents": len(self.documents),
            "chunks": len(self.chunks),
            "next_id": self._next_id,
            "lexical_engine": self.lexical.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "versions": {
                "python": platform.python_version(),
                "faiss": faiss.__version__,
                "sentence_transformers": sentence_transformers.__version__,
            },
        }

    def save(self, directory: str | Path) -> None:
        """Write the index to a directory atomically (the old one stays until the swap)."""
        target = Path(directory)
        with store.atomic_directory(target) as tmp:
            store.write_jsonl(tmp / "documents.jsonl", (store.document_json(d) for d in self.documents.values()))
            store.write_jsonl(
                tmp / "annotations.jsonl", (a.to_json() for a in self.annotations.values())
            )
            store.write_jsonl(
                tmp / "chunks.jsonl",
                (
                    {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end}
                    for c in self.chunks.values()
                ),
            )
            self.lexical.save(tmp / self.lexical.FILE)
            self.dense.save(tmp / "dense.faiss")
            manifest = self.manifest()
            manifest["checksums"] = store.file_checksums(tmp, store.index_files(tmp))
            # The manifest goes last: a folder without it is never mistaken for an index.
            (tmp / store.MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")

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
            return cls._load(directory, encoder, config)
        except IndexError_ as exc:
            raise IndexError_(
                f"{exc}. Rebuild it with: qa index --rebuild --index {directory} --corpus <folder>"
            ) from None

    @classmethod
    def _load(
        cls, directory: Path, encoder: Encoder | None, config: RetrieverConfig | None
    ) -> "Retriever":
        manifest = store.read_manifest(directory)
        store.verify_checksums(directory, manifest)
        try:
            saved = from_json(RetrieverConfig, manifest["config"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise IndexError_(f"index config in {directory} is invalid ({exc})") from exc
        built = manifest.get("index_key")
        if not isinstance(built, dict) or built.get("tokenizer") != saved.index_key()["tokenizer"]:
            tok = built.get("tokenizer") if isinstance(built, dict) else None
            raise IndexError_(
                f"index in {directory} was built with tokenizer version {tok!r}; this version "
                f"of qa uses {saved.index_key()['tokenizer']}"
            )
        if config is not None and config.index_key() != saved.index_key():
            raise IndexError_(
                f"index in {directory} was built with {saved.index_key()}, "
                f"not {config.index_key()}"
            )
        r = cls(config or saved, encoder)
        if r.encoder.dim != manifest.get("dim"):
            raise IndexError_(f"index dimension {manifest.get('dim')} != model's {r.encoder.dim}")
        try:
            for row in store.read_jsonl(directory / "documents.jsonl"):
                doc = store.document_from_json(row)
                r.documents[doc.doc_id] = doc
            for row in store.read_jsonl(directory / "annotations.jsonl"):
                r.annotations[row["doc_id"]] = Annotation.from_json(row)
            for row in store.read_jsonl(directory / "chunks.jsonl"):
                doc = r.documents[row["doc_id"]]
                start, end = int(row["start"]), int(row["end"])
                r.chunks[int(row["chunk_id"])] = Chunk(
                    doc.doc_id, doc.text[start:end], start, end, int(row["chunk_id"])
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexError_(f"index files in {directory} are inconsistent ({exc})") from exc
        r.lexical = load_lexical(directory, str(manifest.get("lexical_engine", LexicalIndex.name)))
        r.dense = DenseIndex.load(directory / "dense.faiss", r.encoder.dim)
        try:
            r._next_id = int(manifest.get("next_id", max(r.chunks, default=-1) + 1))
        except (TypeError, ValueError):
            raise IndexError_(f"index manifest in {directory} has an invalid next_id") from None
        if r._next_id <= max(r.chunks, default=-1):
            raise IndexError_(f"index manifest in {directory} has an invalid next_id")
        if len(r.lexical) != len(r.chunks) or len(r.dense) != len(r.chunks):
            raise IndexError_(f"index in {directory} is inconsistent (chunk counts differ)")
        if set(r.annotations) != set(r.documents):
            raise IndexError_(f"index in {directory} is inconsistent (annotations missing)")
        return r

    @classmethod
    def open(
        cls,
        directory: str | Path,
        corpus: str | Path | Sequence[Document],
        config: RetrieverConfig | None = None,
        *,
        encoder: Encoder | None = None,
    ) -> "Retriever":
        """Load the index in ``directory``, building or updating it to match ``corpus``.

        A missing index is built. An index built with other index settings or another model
        is rebuilt. Added, removed or changed documents are updated incrementally. The result
        is saved when anything changed. A corrupt index raises (the user decides to rebuild).
        """
        directory = Path(directory)
        if isinstance(corpus, (str, Path)):
            store.check_not_inside(directory, Path(corpus))
        store.check_target(directory)
        docs = load_folder(corpus) if isinstance(corpus, (str, Path)) else list(corpus)
        config = config or RetrieverConfig()
        if not (directory / store.MANIFEST).exists():
            log.info("no index in %s; building it", directory)
            r = cls.from_documents(docs, config, encoder=encoder)
            r.save(directory)
            return r
        try:
            manifest = store.read_manifest(directory)
        except IndexError_ as exc:
            raise IndexError_(
                f"{exc}. Rebuild it with: qa index --rebuild --index {directory} --corpus <folder>"
            ) from None
        if (manifest.get("index_key") != json.loads(json.dumps(config.index_key()))
                or not manifest.get("checksums")):  # other settings, or saved before checksums
            log.info("index settings changed; rebuilding %s", directory)
            r = cls.from_documents(docs, config, encoder=encoder)
            r.save(directory)
            return r
        r = cls.load(directory, encoder=encoder, config=config)
        if r.sync(docs):
            log.info("corpus changed; index updated in %s", directory)
            try:
                r.save(directory)
            except IndexError_ as exc:
                # A read-only index still answers: from the corpus as it is now, unsaved.
                log.warning("the corpus changed but the index could not be saved (%s); "
                            "answering from the updated index in memory", exc)
        return r

