"""The benchmark: answer quality, abstention, retrieval and latency, across configurations.

``evaluate`` runs one configuration and records, per question, the best answer and its score
*before* the abstention threshold, so thresholds can be swept afterwards without re-running.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.config import ReaderConfig, RetrieverConfig
from qa.documents import make_document
from qa.errors import CorpusError, InputError
from qa.metrics import (
    answer_scores,
    dedupe,
    mean,
    ndcg_at_k,
    percentile,
    recall_at_k,
    reciprocal_rank,
)
from qa.types import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    history: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class QuestionResult:
    id: str
    question: str
    query: str
    prediction: str | None
    score: float
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    ranked_docs: tuple[str, ...]
    answer_sources: tuple[str, ...]
    retrieval_ms: float
    reading_ms: float
    follow_up: bool


@dataclass(frozen=True)
class RunConfig:
    """One configuration to compare."""

    name: str
    mode: str = "hybrid"
    fusion: str = "weighted"
    reader: str | None = None  # None: the configured reader; else "trained" or "rules"
    model: str | None = None  # a span model (transformers name or folder) for the trained reader


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Questions from a JSON Lines file (fields: id, question, answers, sources, history)."""
    path = Path(path)
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(f"cannot read question file {path}: {exc.strerror or exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                EvalQuestion(
                    id=str(row["id"]),
                    question=row["question"],
                    answers=tuple(row.get("answers", ())),
                    sources=tuple(row.get("sources", ())),
                    history=tuple(row.get("history", ())),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path.name} line {n} is not a valid question ({exc})") from exc
    if not out:
        raise InputError(f"{path} holds no questions")
    return out


def load_squad(path: str | Path) -> tuple[list[Document], list[EvalQuestion]]:
    """A SQuAD-format file as an open corpus: each paragraph a document, every question asked of
    the whole corpus, its own paragraph as the source. The file is checked whole first
    (:mod:`qa.squad`); every problem is reported in one CorpusError."""
    from qa.squad import read_squad

    docs, questions = [], []
    for para in read_squad(path):
        docs.append(Document(doc_id=para.doc_id, text=para.context, raw=para.context, title=para.title))
        for q in para.questions:
            answers = tuple(dict.fromkeys(a.text for a in q.answers))
            questions.append(EvalQuestion(id=q.id, question=q.question, answers=answers,
                                          sources=(para.doc_id,) if answers else ()))
    return docs, questions


def split(questions: Sequence[EvalQuestion]) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """A fixed calibration / test split by a hash of the question id."""
    calib = [q for q in questions if zlib.crc32(q.id.encode()) % 2 == 0]
    test = [q for q in questions if zlib.crc32(q.id.encode()) % 2 == 1]
    return calib, test


def evaluate(assistant, questions: Sequence[EvalQuestion], run: RunConfig,
             threshold: float | None = None) -> list[QuestionResult]:
    """Ask every question under one configuration; no abstention applied yet. A follow-up's
    earlier turns are answered at ``threshold`` (the reader's by default), as the user saw them."""
    from tqdm import tqdm
    results = []
    for q in tqdm(questions, desc=f"ask {run.name}", unit="q", disable=len(questions) < 50, leave=False):
        # Time every question cold: the query-embedding and model caches would flatter repeated runs.
        assistant.clear_caches()
        turns = assistant.context(list(q.history), threshold, mode=run.mode, fusion=run.fusion)
        reply = assistant.ask(q.question, turns, mode=run.mode, fusion=run.fusion, threshold=float("-inf"))
        ranked = assistant.retriever.search(reply.search_text, k=10, mode=run.mode, fusion=run.fusion)
        a = reply.answer
        results.append(
            QuestionResult(
                id=q.id,
                question=q.question,
                query=reply.query,
                prediction=a.text if a else None,
                score=a.score if a else 0.0,
                answers=q.answers,
                sources=q.sources,
                ranked_docs=tuple(dedupe([h.chunk.doc_id for h in ranked])),
                answer_sources=a.sources if a else (),
                retrieval_ms=reply.retrieval_ms,
                reading_ms=reply.reading_ms,
                follow_up=bool(q.history),
            )
        )
    return results


def summarize(results: Sequence[QuestionResult], threshold: float) -> dict:
    """Metrics of a run at an abstention threshold."""
    ems, f1s, ans_f1, ans_em, noans, decisions, fu, standalone = [], [], [], [], [], [], [], []
    r1, r5, r10, rr, nd = [], [], [], [], []
    for r in results:
        pred = r.prediction if r.prediction is not None and r.score >= threshold else None
        em, f1 = answer_scores(pred, r.answers)
        ems.append(em)
        f1s.append(f1)
        decisions.append(float((pred is None) == (not r.answers)))
        if r.answers:
            ans_f1.append(f1)
            ans_em.append(em)
            (fu if r.follow_up else standalone).append(f1)
            ranked = list(r.ranked_docs)
            r1.append(recall_at_k(ranked, r.sources, 1))
            r5.append(recall_at_k(ranked, r.sources, 5))
            r10.append(recall_at_k(ranked, r.sources, 10))
            rr.append(reciprocal_rank(ranked, r.sources))
            nd.append(ndcg_at_k(ranked, r.sources, 10))
        else:
            noans.append(float(pred is None))
    total = [r.retrieval_ms + r.reading_ms for r in results]
    return {
        "questions": len(results),
        "threshold": threshold,
        "em": mean(ems),
        "f1": mean(f1s),
        "answerable_em": mean(ans_em),
        "answerable_f1": mean(ans_f1),
        "unanswerable_accuracy": mean(noans),
        "abstention_accuracy": mean(decisions),
        "standalone_f1": mean(standalone),
        "followup_f1": mean(fu),
        "recall@1": mean(r1),
        "recall@5": mean(r5),
        "recall@10": mean(r10),
        "mrr": mean(rr),
        "ndcg@10": mean(nd),
        "latency_p50_ms": percentile(total, 50),
        "latency_p95_ms": percentile(total, 95),
        "retrieval_p50_ms": percentile([r.retrieval_ms for r in results], 50),
        "retrieval_p95_ms": percentile([r.retrieval_ms for r in results], 95),
        "reading_p50_ms": percentile([r.reading_ms for r in results], 50),
        "reading_p95_ms": percentile([r.reading_ms for r in results], 95),
    }


def calibrate_threshold(results: Sequence[QuestionResult]) -> float:
    """The abstention threshold that best balances answering and abstaining on these results.

    The objective is the mean of answerable F1 and unanswerable accuracy, so it does not
    depend on how many unanswerable questions a set happens to hold (plain F1 would mostly
    ignore them in the seed set, where they are 13%).
    """
    candidates = sorted({0.0, *(round(r.score, 4) for r in results)})
    best_i, best_f1 = 0, -1.0
    for i, t in enumerate(candidates):
        m = summarize(results, t)
        f1 = 0.5 * m["answerable_f1"] + 0.5 * m["unanswerable_accuracy"]
        if f1 > best_f1 + 1e-9:
            best_i, best_f1 = i, f1
    # Answers scoring at least the threshold are kept, so every threshold above the score below
    # this one, up to this one, gives the same result; the midpoint of that interval is the
    # choice least sensitive to small score changes.
    if best_i > 0:
        return round((candidates[best_i - 1] + candidates[best_i]) / 2, 4)
    return candidates[best_i]


DEFAULT_RUNS = (
    RunConfig("bm25", mode="bm25"),
    RunConfig("dense", mode="dense"),
    RunConfig("hybrid-rrf", mode="hybrid", fusion="rrf"),
    RunConfig("hybrid-weighted", mode="hybrid", fusion="weighted"),
    RunConfig("hybrid-weighted+rules", mode="hybrid", fusion="weighted", reader="rules"),
    RunConfig("hybrid-weighted+trained", mode="hybrid", fusion="weighted", reader="trained"),
)


def _score_run(retriever, questions, run: RunConfig, reader_config: ReaderConfig,
               threshold: float | None, calib_ids: set[str]) -> tuple[dict, list[QuestionResult]]:
    """Ask every question under one configuration and summarise it, with the threshold
    calibrated on one half and its figures on the other."""
    from qa.assistant import Assistant

    cfg = reader_config
    if run.reader is not None:
        cfg = dataclasses.replace(cfg, reader=run.reader)
    if run.model is not None:
        cfg = dataclasses.replace(cfg, model=run.model)
    assistant = Assistant(retriever, cfg)
    limit = next(t for t in (threshold, cfg.abstain_threshold,
                             assistant.reader.default_threshold) if t is not None)
    results = evaluate(assistant, questions, run, limit)
    calib = [r for r in results if r.id in calib_ids]
    test = [r for r in results if r.id not in calib_ids]
    tuned = calibrate_threshold(calib)
    summary = summarize(results, limit)
    summary.update(
        {
            "mode": run.mode,
            "fusion": run.fusion if run.mode == "hybrid" else None,
            "reader": assistant.reader.name,
            "threshold": limit,
            "calibrated_threshold": tuned,
            "calibration_split_f1": summarize(calib, tuned)["f1"],
            "test_split_unanswerable_accuracy": summarize(test, tuned)["unanswerable_accuracy"],
            "test_split_answerable_f1": summarize(test, tuned)["answerable_f1"],
            "test_split_f1": summarize(test, tuned)["f1"],
            "test_split_f1_at_configured": summarize(test, limit)["f1"],
        }
    )
    return summary, results


def run_benchmark(
    documents: Sequence[Document],
    questions: Sequence[EvalQuestion],
    *,
    runs: Sequence[RunConfig] = DEFAULT_RUNS,
    retriever_config: RetrieverConfig | None = None,
    reader_config: ReaderConfig | None = None,
    threshold: float | None = None,
    name: str = "benchmark",
) -> dict:
    """Build an index, run every configuration and return the JSON summary.

    The abstention threshold is the configured one unless ``threshold`` is given; the summary
    also reports the threshold calibrated on one half of the questions and its figures on the
    other half, so a tuned number can be judged on questions it was not tuned on.
    """
    from qa.annotate import load_nlp
    from qa.dense import Encoder
    from qa.retriever import Retriever

    reader_config = reader_config or ReaderConfig()
    # Build time is reported once the models are loaded, as the targets are stated.
    encoder = Encoder.get((retriever_config or RetrieverConfig()).model)
    encoder.encode(["warm up"])
    load_nlp()
    t0 = time.perf_counter()
    retriever = Retriever.from_documents(documents, retriever_config, encoder=encoder)
    build_s = time.perf_counter() - t0
    calib_q, test_q = split(questions)
    calib_ids = {q.id for q in calib_q}
    configs = {}
    per_question = {}
    for run in runs:
        summary, results = _score_run(retriever, questions, run, reader_config, threshold, calib_ids)
        configs[run.name] = summary
        per_question[run.name] = [dataclasses.asdict(r) for r in results]
    main_name = next(
        (n for n in configs if n == "hybrid-weighted"), next(iter(configs))
    )
    main = configs[main_name]
    keys = ["em", "f1", "answerable_f1", "abstention_accuracy", "unanswerable_accuracy",
            "recall@5", "mrr", "ndcg@10", "latency_p50_ms", "latency_p95_ms"]
    return {
        "benchmark": name,
        "primary_config": main_name,
        **{k: main[k] for k in keys},
        "index_build_s": build_s,
        "chunks": len(retriever.chunks),
        "chunks_per_s": len(retriever.chunks) / build_s if build_s else 0.0,
        "documents": len(retriever.documents),
        "configs": configs,
        "per_question": per_question,
    }


def markdown_table(summary: dict) -> str:
    cols = [
        ("config", None), ("EM", "em"), ("F1", "f1"), ("HasAns F1", "answerable_f1"),
        ("NoAns acc", "unanswerable_accuracy"), ("abstain acc", "abstention_accuracy"),
        ("R@1", "recall@1"), ("R@5", "recall@5"), ("MRR", "mrr"), ("nDCG@10", "ndcg@10"),
        ("p50 ms", "latency_p50_ms"), ("p95 ms", "latency_p95_ms"),
    ]
    lines = ["| " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * len(cols)]
    for name, s in summary["configs"].items():
        cells = [f"{name} ({s['reader']})"]
        for _, key in cols[1:]:
            v = s[key]
            cells.append(f"{v:.1f}" if key.endswith("_ms") else f"{v:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(summary: dict, directory: str | Path) -> Path:
    """Markdown report with the comparison table and a quality-versus-latency chart."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = summary["benchmark"]
    chart = directory / f"{name}-quality-latency.png"
    chart_ok = False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for cname, s in summary["configs"].items():
            ax.scatter(s["latency_p50_ms"], s["f1"], s=60)
            ax.annotate(cname, (s["latency_p50_ms"], s["f1"]), textcoords="offset points",
                        xytext=(5, 5), fontsize=8)
        ax.set_xlabel("latency p50 per question (ms)")
        ax.set_ylabel("F1 (with abstention)")
        ax.set_title(f"{name}: quality against latency")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(chart, dpi=100)
        plt.close(fig)
        chart_ok = True
    except ImportError:
        log.warning("matplotlib is not installed; the report has no chart (pip install qa[eval])")
    main = summary["configs"][summary["primary_config"]]
    text = [
        f"# Benchmark: {name}",
        "",
        f"{summary['documents']} documents, {summary['chunks']} chunks; index built in "
        f"{summary['index_build_s']:.2f} s ({summary['chunks_per_s']:.0f} chunks/s).",
        f"Abstention threshold {main['threshold']:.3f} (calibrated on half the questions: "
        f"{main['calibrated_threshold']:.3f}; test-half F1 at it {main['test_split_f1']:.3f}).",
        "",
        markdown_table(summary),
        "",
        f"Follow-up F1 {main['followup_f1']:.3f} vs stand-alone {main['standalone_f1']:.3f} "
        f"({summary['primary_config']}).",
        "",
    ]
    if chart_ok:
        text += [f"![quality against latency]({chart.name})", ""]
    path = directory / f"{name}.md"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


__all__ = [
    "EvalQuestion", "QuestionResult", "RunConfig", "calibrate_threshold", "evaluate",
    "load_questions", "load_squad", "make_document", "markdown_table", "run_benchmark",
    "split", "summarize", "write_report",
]
