"""``qa bench --scale N``: the retrieval stores at N chunks, on one machine.

The corpus is real text made larger: the sentences of the SQuAD paragraphs in ``../shared``
(split by spaCy's rule-based sentencizer), shuffled and recombined into chunk-sized passages,
so that term statistics stay natural. Embedding every chunk of a million would take over 40
minutes on 2 cores, so each distinct sentence is embedded once and a chunk's vector is the
normalised sum of its sentences' vectors plus a little noise; the output says so, and reports
the encoder's real throughput on a sample of whole chunks.

The index is a complete one, in the Retriever's own format: documents of four chunks with
their sentence annotations in the SQLite store, both engines, a manifest. It is built and
saved by this process; a fresh process then opens it with ``Retriever.load`` (checksums
verified) and times ``Retriever.search``, so open time and memory are what a server would see.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.metrics import percentile

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
_SOURCES = ("train/squad2-train-mix.json", "bench/squad2-dev-3articles.json")
_QUERIES = 200
_DEPTH = 50  # candidates per engine, as Retriever.search fuses
_NOISE = 0.02


def _sentences(shared: Path) -> tuple[list[str], list[str]]:
    """Distinct sentences of the SQuAD paragraphs, and their questions (the queries)."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    paras, questions = [], []
    for name in _SOURCES:
        path = shared / name
        if not path.exists():
            continue
        for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for p in art["paragraphs"]:
                paras.append(p["context"])
                questions += [q["question"] for q in p["qas"]]
    if not paras:
        raise SystemExit(f"no SQuAD files under {shared}; the scale benchmark needs them")
    sents = {s.text.strip() for doc in nlp.pipe(paras) for s in doc.sents if len(s.text.strip()) > 20}
    return sorted(sents), questions


def _rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def _du_mb(path: Path) -> float:
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 2**20


class Material:
    """The sentences, their vectors and terms, and the queries: made once per benchmark run."""

    def __init__(self, max_sentences: int | None = None) -> None:
        from qa.dense import Encoder
        from qa.tokens import tokenize

        self.sentences, self.questions = _sentences(SHARED)
        self.sentences = self.sentences[:max_sentences]  # fewer, for a quick check
        self.encoder = Encoder.get()
        t = time.perf_counter()
        self.vectors = self.encoder.encode(self.sentences, batch_size=64)
        self.sentences_per_s = len(self.sentences) / (time.perf_counter() - t)
        self.terms = [tokenize(s) for s in self.sentences]


_CHUNKS_PER_DOC = 4


def _store_rows(picks: list[np.ndarray], sents: list[str]):
    """Documents of four chunks each, their sentence annotations and chunk offsets, as store
    rows, generated a document at a time (entities and noun chunks are left empty: spaCy over
    a million chunks would take hours, and search does not read them)."""
    from qa.annotate import Annotation
    from qa.docstore import annotation_row, chunk_row, document_row
    from qa.types import Chunk, Document, Span

    docs, anns, chunks = [], [], []
    for first in range(0, len(picks), _CHUNKS_PER_DOC):
        doc_id, text, spans, cuts = f"d{first // _CHUNKS_PER_DOC:07d}", "", [], []
        for cid in range(first, min(first + _CHUNKS_PER_DOC, len(picks))):
            start = len(text) + (2 if text else 0)
            text += ("\n\n" if text else "")
            for i in picks[cid]:
                if text and not text.endswith("\n"):
                    text += " "
                spans.append(Span(len(text), len(text) + len(sents[i])))
                text += sents[i]
            cuts.append((cid, start, len(text)))
        docs.append(document_row(Document(doc_id, text, text, title=f"Synthetic {doc_id}")))
        anns.append(annotation_row(Annotation(doc_id, tuple(spans), (), ())))
        chunks += [chunk_row(Chunk(doc_id, text[a:b], a, b, cid)) for cid, a, b in cuts]
        if len(docs) >= 2_000:
            yield docs, anns, chunks
            docs, anns, chunks = [], [], []
    yield docs, anns, chunks


def build(n: int, out: Path, lexical: str, dense: str, m: Material, seed: int = 0) -> dict:
    """Build a complete index (the Retriever's own format) of ``n`` synthetic chunks in
    ``out/index``; the vectors and queries for the measurements go in ``out``."""
    from qa.config import RetrieverConfig
    from qa.dense import DenseIndex
    from qa.docstore import FILE, DocStore, create
    from qa.lexical import new_lexical
    from qa.retriever import Retriever

    rng = np.random.default_rng(seed)
    sents, questions, enc, sent_vecs, sent_terms = m.sentences, m.questions, m.encoder, m.vectors, m.terms
    picks = [rng.choice(len(sents), size=int(k), replace=False) for k in rng.integers(2, 4, size=n)]
    sample = [" ".join(sents[i] for i in p) for p in picks[:512]]
    t = time.perf_counter()
    enc.encode(sample, batch_size=32)
    chunk_rate = len(sample) / (time.perf_counter() - t)
    report = {"chunks": n, "sentences": len(sents), "lexical_engine": None, "dense_kind": None,
              "encoder_chunks_per_s": round(chunk_rate, 1),
              "encoder_sentences_per_s": round(m.sentences_per_s, 1),
              "vectors": "sum of the chunk's embedded sentences + noise" if n > len(sample) else "real"}
    ids = np.arange(n, dtype=np.int64)
    vecs = np.empty((n, sent_vecs.shape[1]), dtype=np.float32)
    for a in range(0, n, 50_000):  # in parts, so the build's peak memory is the index's
        part = np.stack([sent_vecs[p].sum(axis=0) for p in picks[a : a + 50_000]])
        part += rng.normal(scale=_NOISE, size=part.shape).astype(np.float32)
        vecs[a : a + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
    lex = new_lexical(lexical, n)
    t = time.perf_counter()
    batch = 50_000
    for a in range(0, n, batch):
        lex.add(ids[a : a + batch].tolist(),
                [[t for i in p for t in sent_terms[i]] for p in picks[a : a + batch]])
    report["lexical_build_s"] = round(time.perf_counter() - t, 2)
    report["lexical_engine"] = lex.name
    den = DenseIndex(enc.dim, dense)
    t = time.perf_counter()
    den.add(ids, vecs)
    report["dense_build_s"] = round(time.perf_counter() - t, 2)
    report["dense_kind"] = "ivf" if den.approximate else "exact"
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vecs)  # for recall against the exact scan
    del vecs  # the index holds its own (8-bit) copy
    t = time.perf_counter()
    create(out / FILE, *_rows_streams(picks, sents, out))
    report["store_build_s"] = round(time.perf_counter() - t, 2)
    r = Retriever(RetrieverConfig(lexical=lexical, dense_index=dense), enc)
    r.store, r.lexical, r.dense, r._next_id = DocStore(out / FILE), lex, den, n
    t = time.perf_counter()
    r.save(out / "index")
    report["save_s"] = round(time.perf_counter() - t, 2)
    qs = [questions[i] for i in rng.choice(len(questions), size=_QUERIES, replace=False)]
    (out / "queries.json").write_text(json.dumps(qs))
    report["build_peak_rss_mb"] = round(_rss_mb())
    report["index_size_mb"] = round(_du_mb((out / "index").resolve()), 1)
    return report


def _rows_streams(picks, sents, out: Path):
    """The three row streams of :func:`_store_rows`, by way of temporary JSON Lines files, so
    that each table is written in one pass with bounded memory."""
    files = [out / f"rows-{t}.jsonl" for t in ("documents", "annotations", "chunks")]
    handles = [f.open("w", encoding="utf-8") for f in files]
    for parts in _store_rows(picks, sents):
        for fh, rows in zip(handles, parts):
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    for fh in handles:
        fh.close()

    def read(f: Path):
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                yield tuple(json.loads(line))
        f.unlink()

    return [read(f) for f in files]


def _time_queries(r, qs: list[str]) -> tuple[dict[str, list[float]], list[np.ndarray]]:
    """Seconds per query of each search path; the query embedding is computed cold. Hybrid
    is ``Retriever.search``: tokenising, both engines, fusion and reading the hits' chunks."""
    from qa.tokens import tokenize

    enc = r.encoder
    timings: dict[str, list[float]] = {"lexical": [], "embed": [], "dense_search": [], "dense": [], "hybrid": []}
    qvecs = []
    for q in qs:
        terms = tokenize(q)
        t = time.perf_counter()
        r.lexical.top(terms, _DEPTH)
        timings["lexical"].append(time.perf_counter() - t)
        enc.encode_query.cache_clear()
        t = time.perf_counter()
        v = enc.encode_query(q)
        t1 = time.perf_counter()
        r.dense.search(v, _DEPTH)
        t2 = time.perf_counter()
        timings["embed"].append(t1 - t)
        timings["dense_search"].append(t2 - t1)
        timings["dense"].append(t2 - t)
        qvecs.append(v)
        enc.encode_query.cache_clear()
        t = time.perf_counter()
        r.search(q, k=5, mode="hybrid")
        timings["hybrid"].append(time.perf_counter() - t)
    return timings, qvecs


def _update_costs(r, out: Path) -> dict:
    """Seconds to add, then remove, one document (cleaned, annotated by spaCy, chunked,
    embedded, indexed), and to save the index after it."""
    from qa.annotate import annotate
    from qa.documents import make_document

    text = " ".join(f"Sentence {i} of a new document about tantivy, faiss and SQLite." for i in range(12))
    annotate([make_document("warm-up", "Load spaCy before the clock starts.")])
    t = time.perf_counter()
    r.add_documents([make_document("new-document", text, title="New")])
    added = time.perf_counter() - t
    t = time.perf_counter()
    r.save(out / "index")
    saved = time.perf_counter() - t
    t = time.perf_counter()
    r.remove_documents(["new-document"])
    return {"add_document_s": round(added, 3), "remove_document_s": round(time.perf_counter() - t, 3),
            "save_after_add_s": round(saved, 2)}


def _recall(den, out: Path, qvecs: list[np.ndarray]) -> float:
    """Dense recall@10 against the exact scan over every vector."""
    import faiss

    if not den.approximate:
        return 1.0
    vecs = np.load(out / "vectors.npy", mmap_mode="r")
    _, exact = faiss.knn(np.stack(qvecs), np.asarray(vecs), 10, metric=faiss.METRIC_INNER_PRODUCT)
    got = [list(den.search(v, 10)) for v in qvecs]
    return round(float(np.mean([len(set(g) & set(e.tolist())) / 10 for g, e in zip(got, exact)])), 4)


def serve(out: Path, nprobe: int | None) -> dict:
    """Open a built index (in a fresh process) and time queries, updates and recall."""
    from qa.dense import Encoder
    from qa.retriever import Retriever
    from qa.store import read_manifest, saved_config

    enc = Encoder.get()
    enc.encode(["warm up"])
    base_rss = _current_rss_mb()
    config = None
    if nprobe is not None:
        import dataclasses

        config = dataclasses.replace(saved_config(out / "index", read_manifest(out / "index")), nprobe=nprobe)
    t = time.perf_counter()
    r = Retriever.load(out / "index", encoder=enc, config=config)
    report = {"open_s": round(time.perf_counter() - t, 3), "encoder_backend": enc.backend}
    timings, qvecs = _time_queries(r, json.loads((out / "queries.json").read_text()))
    for name, ts in timings.items():
        ms = [x * 1000 for x in ts]
        report[f"{name}_p50_ms"] = round(percentile(ms, 50), 2)
        report[f"{name}_p95_ms"] = round(percentile(ms, 95), 2)
    report["query_embedding_included"] = "dense and hybrid (embed and dense_search are its parts)"
    if r.dense.approximate:
        report["ivf_lists"], report["nprobe"] = r.dense.index.nlist, r.dense.index.nprobe
    report["serve_rss_mb"] = round(_current_rss_mb())
    report["serve_rss_index_mb"] = round(_current_rss_mb() - base_rss)  # beyond the loaded model
    report.update(_update_costs(r, out))
    # Last: the exact scan reads every vector, which would count in the memory above.
    report["dense_recall_at_10"] = _recall(r.dense, out, qvecs)
    return report


def run(n: int, lexical: str = "auto", dense: str = "auto", nprobe: int | None = None,
        material: Material | None = None) -> dict:
    """Build in this process, measure in a fresh one; return every figure."""
    material = material or Material()
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        out = Path(tmp)
        report = build(n, out, lexical, dense, material)
        cmd = [sys.executable, "-c",
               "import json,sys; from pathlib import Path; from qa.scale import serve; "
               f"print(json.dumps(serve(Path(sys.argv[1]), {nprobe})))",
               str(out)]
        child = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if child.returncode != 0:
            raise SystemExit(f"the serving measurement failed:\n{child.stderr[-2000:]}")
        report.update(json.loads(child.stdout.strip().splitlines()[-1]))
    return report


def table(reports: list[dict]) -> str:
    """The reports as a Markdown table, one column per run."""
    keys = [k for k in reports[0] if k not in ("vectors", "query_embedding_included")]
    head = "| figure | " + " | ".join(f"N={r['chunks']:,}" for r in reports) + " |"
    rows = [head, "|---" * (len(reports) + 1) + "|"]
    rows += [f"| {k} | " + " | ".join(str(r.get(k, "")) for r in reports) + " |" for k in keys]
    return "\n".join(rows)
