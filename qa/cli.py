"""Command line: ``qa index``, ``qa search``, ``qa ask``, ``qa chat``, ``qa eval``, ``qa serve``.

Heavy imports happen inside commands so ``qa --help`` is instant.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from qa.presentation import hit_json, reply_json, reply_lines
from qa.errors import QAError
from qa.paths import default_corpus, default_index

READERS = ["trained", "combined", "rules"]
MODES = ["hybrid", "bm25", "dense"]
FUSIONS = ["weighted", "rrf"]


class _Group(click.Group):
    """Turns the package's own errors into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None


@click.group(cls=_Group)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.version_option(package_name="qa")
def main(verbose: bool) -> None:
    """Extractive question answering over a folder of documents."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _corpus_opt(f):
    return click.option(
        "--corpus",
        type=click.Path(path_type=Path),
        default=None,
        help="Folder of .txt/.md/.html/.pdf files (default: the seed corpus).",
    )(f)


def _int8_opt(f):
    return click.option(
        "--int8", is_flag=True,
        help="Run the span model in int8: about 1.7x faster, slightly less accurate (eval/README.md).",
    )(f)


def _index_opt(f):
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Index folder (default: ./index).",
    )(f)


def _backend_opts(f):
    f = click.option("--collection", default=None, help="Milvus collection (default qa_chunks).")(f)
    f = click.option("--uri", default=None, help="Milvus URI, e.g. http://127.0.0.1:19530 "
                     "(a token, if needed, in $QA_MILVUS_TOKEN).")(f)
    return click.option("--backend", type=click.Choice(["embedded", "milvus"]), default=None,
                        help="Where search runs: the index folder (default) or Milvus.")(f)


def retriever_config(backend=None, uri=None, collection=None, **config):
    """A RetrieverConfig from CLI options, or None when none was given (keep the index's)."""
    from qa.config import RetrieverConfig

    given = {k: v for k, v in dict(config, backend=backend, uri=uri, collection=collection).items()
             if v is not None}
    return RetrieverConfig(**given) if given else None


def open_retriever(index_dir: Path | None, corpus: Path | None, **config):
    """The index in ``index_dir``, built or brought up to date with ``corpus``."""
    from qa.retriever import Retriever

    return Retriever.open(index_dir or default_index(), corpus or default_corpus(), retriever_config(**config))


@main.command()
@_corpus_opt
@_index_opt
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch, even if up to date.")
@_backend_opts
def index(corpus: Path | None, index_dir: Path | None, rebuild: bool, **backend) -> None:
    """Build or update the index of a corpus folder (streamed; an interrupted build resumes)."""
    import time

    from qa.build import build_index

    corpus = corpus or default_corpus()
    index_dir = index_dir or default_index()
    t0 = time.perf_counter()
    r, skipped = build_index(index_dir, corpus, retriever_config(**backend), rebuild=rebuild)
    click.echo(
        f"index {index_dir}: {len(r.documents)} documents, {len(r.chunks)} chunks "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    for f in skipped:
        click.echo(f"skipped {f.name}: {f.reason}")


@main.command()
@click.argument("query")
@click.option("--k", default=5, show_default=True, type=int, help="Number of hits.")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option("--fusion", type=click.Choice(FUSIONS), default=None, help="Hybrid fusion.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable hits.")
@_corpus_opt
@_index_opt
@_backend_opts
def search(query, k, mode, fusion, as_json, corpus, index_dir, **backend) -> None:
    """Search the index for QUERY."""
    from qa.query import clean_query

    clean_query(query)  # fail fast, before loading any model
    if k < 1:
        raise click.ClickException(f"--k must be at least 1, got {k}")
    r = open_retriever(index_dir, corpus, **backend)
    hits = r.search(query, k=k, mode=mode, fusion=fusion)
    if as_json:
        click.echo(json.dumps([hit_json(r, h) for h in hits], ensure_ascii=False, indent=2))
        return
    for h in hits:
        doc = r.documents[h.chunk.doc_id]
        comps = []
        if h.lexical_score is not None:
            comps.append(f"bm25={h.lexical_score:.2f}")
        if h.dense_score is not None:
            comps.append(f"dense={h.dense_score:.3f}")
        click.echo(f"{h.rank}. [{h.score:.3f} {' '.join(comps)}] {doc.title} ({h.chunk.doc_id} "
                   f"{h.chunk.start}-{h.chunk.end})")
        click.echo("   " + " ".join(h.chunk.text.split())[:300])


def _print_reply(assistant, reply, explain: bool = False) -> None:
    for line in reply_lines(assistant, reply, explain):
        click.echo(line)


@main.command()
@click.argument("question")
@click.option("--history", multiple=True, help="An earlier question (repeat, oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--k", default=None, type=int, help="Passages to read.")
@click.option("--mode", type=click.Choice(MODES), default=None)
@click.option("--reader", type=click.Choice(READERS), default="combined", show_default=True,
              help="The trained span model, or the rule reader that needs no model.")
@click.option("--reader-model", default=None,
              help="Another span model: a transformers QA model (name or folder) or a qa train-reader folder.")
@click.option("--explain", is_flag=True, help="Show why the answer won: features and weighted terms.")
@_int8_opt
@_corpus_opt
@_index_opt
@_backend_opts
def ask(question, history, as_json, k, mode, reader, reader_model, explain, int8, corpus, index_dir,
        **backend) -> None:
    """Answer QUESTION from the corpus."""
    from qa.assistant import Assistant
    from qa.config import ReaderConfig
    from qa.query import clean_query

    clean_query(question)
    r = open_retriever(index_dir, corpus, **backend)
    assistant = Assistant(r, ReaderConfig(reader=reader, model=reader_model, quantize=int8))
    reply = assistant.ask(question, list(history), k=k, mode=mode)
    if as_json:
        click.echo(json.dumps(reply_json(assistant, reply), ensure_ascii=False, indent=2))
    else:
        _print_reply(assistant, reply, explain)


@main.command()
@_corpus_opt
@_index_opt
def chat(corpus, index_dir) -> None:
    """Interactive questions with follow-ups. Empty line or Ctrl-D ends; /reset forgets."""
    from qa.assistant import Assistant
    from qa.conversation import Turn

    assistant = Assistant(open_retriever(index_dir, corpus))
    turns: list[Turn] = []
    click.echo("Ask a question (empty line to quit, /reset to start over).")
    while True:
        try:
            line = click.prompt("?", default="", show_default=False, prompt_suffix=" ")
        except (EOFError, click.Abort):
            break
        line = line.strip()
        if not line:
            break
        if line == "/reset":
            turns = []
            continue
        try:
            reply = assistant.ask(line, turns)
        except QAError as exc:
            click.echo(f"error: {exc}")
            continue
        _print_reply(assistant, reply)
        if Turn.kept(reply):
            turns.append(Turn.from_reply(reply))


@main.command(name="eval")
@click.option("--questions", type=click.Path(path_type=Path), default=None,
              help="Question file (JSON Lines). Default: eval/questions.jsonl.")
@click.option("--squad", type=click.Path(path_type=Path), default=None,
              help="A SQuAD v2.0 JSON file, run as an open corpus.")
@_corpus_opt
@click.option("--mode", type=click.Choice(MODES), default=None, help="Only this mode.")
@click.option("--fusion", type=click.Choice(FUSIONS), default=None, help="Only this fusion.")
@click.option("--reader-model", multiple=True, help="Also compare a transformers QA model.")
@click.option("--threshold", type=float, default=None, help="Abstention threshold.")
@_int8_opt
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Write the JSON summary here.")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Write a Markdown report with a chart into this folder.")
@click.option("--from-feedback", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Turn a feedback file (INDEX-feedback.jsonl) into a question file, and stop.")
@click.option("--write-questions", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where --from-feedback writes the questions (default feedback-questions.jsonl).")
def eval_(questions, squad, corpus, mode, fusion, reader_model, threshold, int8, json_out, report,
          from_feedback, write_questions):
    """Score the assistant on a question set or SQuAD v2.0 and compare configurations."""
    from qa import evaluation as ev
    from qa.documents import load_folder

    if from_feedback:
        from qa.feedback import write_questions as convert

        out, review, good, bad = convert(from_feedback, write_questions or Path("feedback-questions.jsonl"))
        click.echo(f"{good} questions from answers marked right: {out} (run: qa eval --questions {out})")
        click.echo(f"{bad} answers marked wrong, to be given the right answer by hand: {review}")
        return

    if questions and squad:
        raise click.UsageError("give --questions or --squad, not both")
    if squad:
        docs, qs = ev.load_squad(squad)
        name = squad.stem
    else:
        qpath = questions or Path("eval/questions.jsonl")
        if not qpath.exists():
            raise click.ClickException(f"question file {qpath} not found; give --questions FILE")
        qs = ev.load_questions(qpath)
        docs = load_folder(corpus or default_corpus())
        name = qpath.stem
    runs = [r for r in ev.DEFAULT_RUNS
            if (mode is None or r.mode == mode) and (fusion is None or r.mode != "hybrid"
                                                     or r.fusion == fusion)]
    for model in reader_model:
        runs.append(ev.RunConfig(f"hybrid-weighted+{Path(model).name}", reader="trained", model=model))
    from qa.config import ReaderConfig

    summary = ev.run_benchmark(docs, qs, runs=runs, threshold=threshold, name=name,
                               reader_config=ReaderConfig(quantize=int8))
    click.echo(ev.markdown_table(summary))
    main_cfg = summary["configs"][summary["primary_config"]]
    click.echo(
        f"\n{summary['documents']} documents, {summary['chunks']} chunks, index built in "
        f"{summary['index_build_s']:.2f} s ({summary['chunks_per_s']:.0f} chunks/s); "
        f"threshold {main_cfg['threshold']:.3f}, calibrated on half: "
        f"{main_cfg['calibrated_threshold']:.3f} (test-half F1 {main_cfg['test_split_f1']:.3f})"
    )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
        click.echo(f"JSON summary: {json_out}")
    if report:
        click.echo(f"report: {ev.write_report(summary, report)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reader", type=click.Choice(READERS), default="combined", show_default=True)
@_int8_opt
@click.option("--reader-model", default=None,
              help="Another span model: a transformers QA model (name or folder) or a qa train-reader folder.")
@_corpus_opt
@_index_opt
@_backend_opts
def serve(host, port, reader, reader_model, int8, corpus, index_dir, **backend) -> None:
    """Start the web UI and HTTP API."""
    from qa.config import ReaderConfig

    try:
        import ui
    except ImportError as exc:
        raise click.ClickException(
            f"the web UI needs the ui extra ({exc}): pip install 'qa[ui]'"
        ) from None
    ui.serve(host=host, port=port, corpus=corpus, index=index_dir,
             reader_config=ReaderConfig(reader=reader, model=reader_model, quantize=int8),
             retriever_config=retriever_config(**backend))


@main.command(name="train-reader")
@click.option("--data", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="SQuAD v2.0 (or v1.1) JSON training file.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Run folder: checkpoint, curve.jsonl and the model (in OUT/model). Rerun to resume.")
@click.option("--epochs", type=float, default=None, help="Passes over the data (default 3).")
@click.option("--lr", type=float, default=None, help="Peak learning rate (default 1e-4).")
@click.option("--batch-size", type=int, default=None)
@click.option("--max-length", type=int, default=None, help="Window length in tokens (default 128).")
@click.option("--stride", type=int, default=None, help="Overlap of a long paragraph's windows, in tokens (default 48).")
@click.option("--negatives", type=int, default=None,
              help="Per question, this many near-miss paragraphs of its article as no-answer windows (default 0).")
@click.option("--shared-norm", type=float, default=None,
              help="Weight of one softmax over all windows of a question, its near misses included (default 0).")
@click.option("--answerability", type=float, default=None,
              help="Weight of a loss teaching a [CLS] head whether each window holds the answer (default 0).")
@click.option("--device", type=str, default=None,
              help="cpu, cuda, or auto (default: the GPU when torch sees one).")
# The choices repeat qa.training.PRECISIONS: importing it here would load numpy and the model
# code for every command (TrainConfig checks the value again).
@click.option("--precision", type=click.Choice(["fp32", "bf16"]), default=None,
              help="bf16: forward and backward under bf16 autocast, about 1.9x faster on a CPU with "
                   "AVX-512 BF16 (default fp32, as the shipped model was trained).")
@click.option("--max-steps", type=int, default=None, help="Stop after this many steps (smoke runs).")
@click.option("--limit", type=int, default=None, help="Use only the first N questions (smoke runs).")
@click.option("--seed", type=int, default=None)
@click.option("--init", type=click.Path(file_okay=False), default=None,
              help="Continue from a saved reader model (e.g. qa/reader_model) instead of a new head.")
def train_reader(data, out, **overrides) -> None:
    """Fine-tune the span reader on SQuAD-format data (see qa/reader_model/README.md)."""
    from qa.training import TrainConfig, train

    cfg = TrainConfig(**{k: v for k, v in overrides.items() if v is not None})
    row = train(data, out, cfg)
    click.echo(json.dumps(row))


@main.command(name="calibrate-reader")
@click.option("--data", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
              help="The training file; its held-out articles are the calibration set.")
@click.option("--model", "model_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
              required=True, help="A folder written by qa train-reader (OUT/model).")
@click.option("--limit", type=int, default=None, help="Only the first N questions (smoke runs).")
def calibrate_reader(data, model_dir, limit) -> None:
    """Fit the reader's confidence and abstention threshold on held-out training articles."""
    from qa.calibration import calibrate

    click.echo(json.dumps(calibrate(data, model_dir, limit=limit), indent=2))


@main.command()
@_corpus_opt
@click.option("--questions", type=click.Path(path_type=Path), default=Path("eval/questions.jsonl"))
@click.option("--repeat", default=3, show_default=True, help="Index builds to time.")
@click.option("--scale", type=int, multiple=True,
              help="Benchmark the retrieval stores at N synthetic chunks instead (repeatable).")
@click.option("--lexical", type=click.Choice(["auto", "rank-bm25", "tantivy"]), default="auto")
@click.option("--dense", "dense_kind", type=click.Choice(["auto", "exact", "ivf"]), default="auto")
@click.option("--nprobe", type=int, default=None, help="IVF lists searched (default: half, at most 512).")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None,
              help="Also write the --scale figures as JSON.")
@click.option("--backend", type=click.Choice(["embedded", "milvus"]), default="embedded",
              help="--scale on Milvus: at --uri, or a milvus-lite server started for the run.")
@click.option("--uri", default=None, help="Milvus URI for --backend milvus.")
def bench(corpus, questions, repeat, scale, lexical, dense_kind, nprobe, json_out, backend, uri) -> None:
    """Speed figures: index build, search and ask latency, peak memory.

    With --scale N: build, save, open and query the retrieval stores at N chunks."""
    from qa.speed import scale_bench, seed_bench

    if scale:
        scale_bench(scale, lexical, dense_kind, nprobe, json_out, click.echo, backend, uri)
    else:
        seed_bench(corpus or default_corpus(), questions, repeat, READERS, click.echo)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
