"""Speed benchmarks behind ``qa bench``: the seed corpus (build, search, ask, memory) and the
retrieval stores at scale (:mod:`qa.scale`). Output goes through ``echo`` (click's in the CLI)."""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path


def scale_bench(sizes: Sequence[int], lexical: str, dense_kind: str, nprobe: int | None,
                json_out: Path | None, echo: Callable[..., None], backend: str = "embedded",
                uri: str | None = None) -> None:
    """Build, save, open and query the stores at each size; print the table (and JSON)."""
    from qa.scale import Material, run, table

    reports, material = [], Material()
    for n in sizes:
        if backend == "milvus":
            from qa.scale_milvus import run_milvus

            reports.append(run_milvus(n, uri, material))
        else:
            reports.append(run(n, lexical, dense_kind, nprobe, material))
        echo(json.dumps(reports[-1]), err=True)
    echo(table(reports))
    echo(f"vectors: {reports[-1]['vectors']}; dense and hybrid latency include the query embedding")
    if json_out:
        json_out.write_text(json.dumps(reports, indent=2))


def seed_bench(corpus: Path, questions: Path, repeat: int, readers: Sequence[str],
               echo: Callable[..., None]) -> None:
    """Index build time, search latency per mode and ask latency per reader, cold embedding."""
    import resource
    import time

    from qa.annotate import load_nlp
    from qa.assistant import Assistant
    from qa.dense import Encoder
    from qa.documents import load_folder
    from qa.evaluation import load_questions
    from qa.metrics import percentile
    from qa.retriever import Retriever

    t0 = time.perf_counter()
    encoder = Encoder.get()
    encoder.encode(["warm up"])
    load_nlp()
    echo(f"models loaded in {time.perf_counter() - t0:.2f} s")
    docs = load_folder(corpus)
    builds = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = Retriever.from_documents(docs, encoder=encoder)
        builds.append(time.perf_counter() - t)
    echo(f"index build ({len(docs)} docs, {len(r.chunks)} chunks): "
               f"best {min(builds):.3f} s, median {sorted(builds)[len(builds) // 2]:.3f} s")
    qs = [q.question for q in load_questions(questions)] if questions.exists() else [
        "Who founded 01.AI?"] * 50
    for mode in ("hybrid", "bm25", "dense"):
        times = []
        for q in qs:
            encoder.encode_query.cache_clear()
            t = time.perf_counter()
            r.search(q, k=5, mode=mode)
            times.append((time.perf_counter() - t) * 1000)
        echo(f"search {mode:6s}: p50 {percentile(times, 50):.2f} ms, "
                   f"p95 {percentile(times, 95):.2f} ms ({len(times)} queries, cold embedding)")

    for label, cfg in reader_variants(readers):
        t = time.perf_counter()
        bot = Assistant(r, cfg)
        load_s = time.perf_counter() - t
        times = []
        for q in qs:
            bot.clear_caches()
            t = time.perf_counter()
            bot.ask(q)
            times.append((time.perf_counter() - t) * 1000)
        echo(f"ask with the {label} (loaded in {load_s:.2f} s; retrieval + reading): "
                   f"p50 {percentile(times, 50):.2f} ms, p95 {percentile(times, 95):.2f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    echo(f"peak memory (max RSS): {peak:.0f} MiB")



def reader_variants(readers: Sequence[str]):
    """(label, ReaderConfig) of each reader, and of the combined reader without staged reading
    and in int8, so that the bench shows what each costs."""
    from qa.config import ReaderConfig

    for kind in readers:
        yield f"{kind} reader", ReaderConfig(reader=kind)
        if kind == "combined":
            yield "combined reader, all 5 passages at once", ReaderConfig(stages=())
            yield "combined reader in int8", ReaderConfig(quantize=True)
