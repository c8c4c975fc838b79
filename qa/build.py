"""Streamed, resumable index build: what ``qa index`` runs on a folder of any size.

Files are read, cleaned, annotated, chunked and embedded a batch at a time, so the corpus is
never held in memory twice (as raw files and as the index); a progress bar gives files per
second and the time left. Embedding is the slow stage (about 60 chunks/s on 2 cores), so a long
build saves a checkpoint (an ordinary, complete index, written atomically) every
``checkpoint_s`` seconds. An interrupted build resumes where it stopped: the next run loads the
checkpoint and embeds only the documents it lacks or that changed (by content hash). A
checkpoint records no corpus file stats, so ``Retriever.open`` always verifies it against the
folder; only the finished build records them.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from qa import store
from qa.config import RetrieverConfig
from qa.documents import (SkippedFile, corpus_files, corpus_fingerprint, corpus_stats, iter_folder,
                          readme_files)
from qa.errors import CorpusError
from qa.retriever import Retriever

log = logging.getLogger(__name__)


def _start(index_dir: Path, config: RetrieverConfig | None, rebuild: bool, encoder) -> Retriever:
    """The saved index (a finished build or a checkpoint) when it matches the settings, else a
    new one. A damaged index raises, with the rebuild command."""
    if rebuild or not (index_dir / store.MANIFEST).exists():
        return Retriever(config, encoder)
    try:
        manifest = store.read_manifest(index_dir)
    except store.FormatVersionError:
        log.info("index saved in another format; building %s afresh", index_dir)
        return Retriever(config, encoder)
    if config is not None and manifest.get("index_key") != json.loads(json.dumps(config.index_key())):
        log.info("index settings changed; building %s afresh", index_dir)
        return Retriever(config, encoder)
    return Retriever.load(index_dir, encoder=encoder, config=config)


def build_index(
    index_dir: str | Path,
    corpus: str | Path,
    config: RetrieverConfig | None = None,
    *,
    rebuild: bool = False,
    batch_docs: int = 64,
    checkpoint_s: float = 60.0,
    progress: bool = True,
    encoder=None,
) -> tuple[Retriever, list[SkippedFile]]:
    """Build or update the index of ``corpus`` in ``index_dir``; returns it and the files skipped.

    Raises:
        CorpusError: the folder holds no readable document.
        IndexError_: ``index_dir`` is not an index, lies in the corpus, or is damaged.
    """
    from tqdm import tqdm

    index_dir, corpus = Path(index_dir), Path(corpus)
    store.check_not_inside(index_dir, corpus)
    store.check_target(index_dir)
    stats = corpus_stats(corpus)  # before reading: a file changed meanwhile is seen next time
    r = _start(index_dir, config, rebuild, encoder)
    have = r.fingerprint()
    seen: set[str] = set()
    skipped: list[SkippedFile] = []
    pending: list = []
    added = 0
    last_save, unsaved = time.monotonic(), False
    files = len(corpus_files(corpus)) + len(readme_files(corpus))
    bar = tqdm(total=files, unit="file", desc="index", disable=not progress)
    for item in iter_folder(corpus):
        bar.update(1)
        if isinstance(item, SkippedFile):
            skipped.append(item)
            continue
        seen.add(item.doc_id)
        if have.get(item.doc_id) != corpus_fingerprint([item])[item.doc_id]:
            pending.append(item)
        if len(pending) >= batch_docs:
            r.add_documents(pending)
            added += len(pending)
            pending, unsaved = [], True
            bar.set_postfix(chunks=len(r.chunks))
        if unsaved and time.monotonic() - last_save >= checkpoint_s:
            r.corpus_stats = None  # a checkpoint: the next open checks it against the folder
            r.save(index_dir)
            last_save, unsaved = time.monotonic(), False
            log.info("checkpoint: %d documents, %d chunks", len(r.documents), len(r.chunks))
    bar.close()
    if not seen:
        raise CorpusError(f"no readable document in {corpus}")
    r.add_documents(pending)
    removed = r.remove_documents([d for d in r.documents if d not in seen])
    if added or pending or removed or stats != r.corpus_stats or not (index_dir / store.MANIFEST).exists():
        r.corpus_stats = stats
        r.save(index_dir)
    return r, skipped
