"""Command line: ``qa index``, ``qa search``, ``qa ask``, ``qa chat``, ``qa eval``, ``qa serve``.

Heavy imports happen inside commands so ``qa --help`` is instant.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from qa.errors import QAError
from qa.paths import default_corpus, default_index

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


def _index_opt(f):
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Index folder (default: ./index).",
    )(f)


def open_retriever(index_dir: Path | None, corpus: Path | None, **config):
    """The index in ``index_dir``, built or brought up to date with ``corpus``."""
    from qa.config import RetrieverConfig
    from qa.retriever import Retriever

    cfg = RetrieverConfig(**{k: v for k, v in config.items() if v is not None})
    return Retriever.open(index_dir or default_index(), corpus or default_corpus(), cfg)


@main.command()
@_corpus_opt
@_index_opt
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch, even if up to date.")
def index(corpus: Path | None, index_dir: Path | None, rebuild: bool) -> None:
    """Build or update the index of a corpus folder."""
    import time

    from qa.retriever import Retriever

    corpus = corpus or default_corpus()
    index_dir = index_dir or default_index()
    t0 = time.perf_counter()
    if rebuild:
        r = Retriever.from_folder(corpus)
        r.save(index_dir)
    else:
        r = Retriever.open(index_dir, corpus)
    click.echo(
        f"index {index_dir}: {len(r.documents)} documents, {len(r.chunks)} chunks "
        f"({time.perf_counter() - t0:.1f} s)"
    )


def hit_json(retriever, hit) -> dict:
    """A hit as the CLI and HTTP API print it."""
    doc = retriever.documents[hit.chunk.doc_id]
    return {
        "doc_id": hit.chunk.doc_id,
        "title": doc.title,
        "text": hit.chunk.text,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "score": hit.score,
        "lexical_score": hit.lexical_score,
        "dense_score": hit.dense_score,
        "rank": hit.rank,
    }


@main.command()
@click.argument("query")
@click.option("--k", default=5, show_default=True, type=int, help="Number of hits.")
@click.option("--mode", type=click.Choice(MODES), default=None, help="Retrieval mode.")
@click.option("--fusion", type=click.Choice(FUSIONS), default=None, help="Hybrid fusion.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable hits.")
@_corpus_opt
@_index_opt
def search(query, k, mode, fusion, as_json, corpus, index_dir) -> None:
    """Search the index for QUERY."""
    from qa.retriever import clean_query

    clean_query(query)  # fail fast, before loading any model
    if k < 1:
        raise click.ClickException(f"--k must be at least 1, got {k}")
    r = open_retriever(index_dir, corpus)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
