"""``qa bench --scale N --backend milvus``: the Milvus backend at N chunks.

Same material as :mod:`qa.scale` (SQuAD sentences recombined, vectors summed from embedded
sentences plus noise past 512 chunks), written through :class:`qa.milvus_backend.MilvusIndex`,
then queried as :meth:`qa.retriever.Retriever.search` does on Milvus: BM25 search, dense search
and Milvus's hybrid search. Without ``--uri`` a milvus-lite server is started on a free loopback
port in a temporary folder, and its memory and disk use are reported too.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.metrics import percentile
from qa.scale import _DEPTH, _NOISE, _QUERIES, Material, _du_mb

_BATCH = 2_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pid_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024


def _start_lite(data: Path) -> tuple[subprocess.Popen, str]:
    from pymilvus import MilvusClient

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            MilvusClient(uri=uri, timeout=2).list_collections()
            return proc, uri
        except Exception:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("milvus-lite did not start")


def _chunks(n: int, m: Material, rng):
    from qa.types import Chunk

    picks = [rng.choice(len(m.sentences), size=int(k), replace=False) for k in rng.integers(2, 4, size=n)]
    vecs = np.stack([m.vectors[p].sum(axis=0) for p in picks]).astype(np.float32)
    vecs += rng.normal(scale=_NOISE, size=vecs.shape).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    chunks = []
    for i, p in enumerate(picks):
        text = " ".join(m.sentences[j] for j in p)
        chunks.append(Chunk(f"d{i // 4}", text, 0, len(text), i))
    return chunks, vecs


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _latencies(idx, enc, qs: list[str], qvecs: list) -> dict:
    """p50/p95 ms of BM25, dense and hybrid search as Retriever.search runs them on Milvus,
    the query embedding computed cold; fills ``qvecs`` with the query vectors."""
    from qa.config import FusionMethod, SearchMode

    times: dict[str, list[float]] = {"lexical": [], "dense": [], "hybrid": []}
    for q in qs:
        times["lexical"].append(_timed(lambda: idx.search(q, None, _DEPTH, SearchMode.BM25,
                                                           FusionMethod.WEIGHTED, 0.5, 60)))
        enc.encode_query.cache_clear()
        times["dense"].append(_timed(lambda: qvecs.append(enc.encode_query(q)) or idx.search(
            q, qvecs[-1], _DEPTH, SearchMode.DENSE, FusionMethod.WEIGHTED, 0.5, 60)))
        enc.encode_query.cache_clear()
        times["hybrid"].append(_timed(lambda: idx.search(q, enc.encode_query(q), _DEPTH, SearchMode.HYBRID,
                                                          FusionMethod.WEIGHTED, 0.5, 60)))
    out = {}
    for k, ts in times.items():
        ms = [x * 1000 for x in ts]
        out[f"{k}_p50_ms"], out[f"{k}_p95_ms"] = round(percentile(ms, 50), 2), round(percentile(ms, 95), 2)
    return out


def run_milvus(n: int, uri: str | None = None, material: Material | None = None, seed: int = 0) -> dict:
    """Build a collection of ``n`` chunks in Milvus and time search, updates and recall."""
    import faiss

    from qa.config import FusionMethod, SearchMode
    from qa.milvus_backend import MilvusIndex

    m = material or Material()
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="qa-scale-milvus-") as tmp:
        proc = None
        if uri is None:
            proc, uri = _start_lite(Path(tmp) / "data")
        try:
            name = f"qa_scale_{n}_{seed}"
            idx = MilvusIndex(uri, name, m.encoder.dim)
            if idx.ids():
                idx.drop()
                idx = MilvusIndex(uri, name, m.encoder.dim)
            chunks, vecs = _chunks(n, m, rng)
            t = time.perf_counter()
            for a in range(0, n, _BATCH):
                idx.add(chunks[a : a + _BATCH], vecs[a : a + _BATCH])
            idx.client.flush(name)
            build = time.perf_counter() - t
            report = {"backend": "milvus" + ("-lite (started here)" if proc else f" at {uri}"), "chunks": n,
                      "build_s": round(build, 2), "build_chunks_per_s": round(n / build, 1),
                      "vectors": "sum of the chunk's embedded sentences + noise" if n > 512 else "real"}
            t = time.perf_counter()
            idx = MilvusIndex(uri, name, m.encoder.dim)  # a fresh client: connect and load
            report["open_s"] = round(time.perf_counter() - t, 3)
            qs = [m.questions[i] for i in rng.choice(len(m.questions), size=min(_QUERIES, len(m.questions)),
                                                       replace=False)]
            report.update(_latencies(idx, m.encoder, qs, qvecs := []))
            _, exact = faiss.knn(np.stack(qvecs), vecs, 10, metric=faiss.METRIC_INNER_PRODUCT)
            got = [[c for c, _ in idx.search("", v, 10, SearchMode.DENSE, FusionMethod.WEIGHTED, 0.5, 60)[0]]
                   for v in qvecs]
            report["dense_recall_at_10"] = round(float(np.mean(
                [len(set(g) & set(e.tolist())) / 10 for g, e in zip(got, exact)])), 4)
            extra, extra_vecs = _chunks(2, m, rng)
            extra = [c.__class__(c.doc_id, c.text, c.start, c.end, n + 10 + i) for i, c in enumerate(extra)]
            report["add_document_s"] = round(_timed(lambda: idx.add(extra, extra_vecs)), 3)
            report["remove_document_s"] = round(_timed(lambda: idx.remove([c.chunk_id for c in extra])), 3)
            if proc:
                report["server_rss_mb"] = round(_pid_rss_mb(proc.pid))
                report["index_size_mb"] = round(_du_mb(Path(tmp) / "data"), 1)
            idx.drop()
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=30)
    return report


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run_milvus(int(sys.argv[1])), indent=2))
