"""Index persistence: a directory of JSON/JSONL files and a FAISS index, written atomically.

Layout::

    manifest.json      format version, package version, model, config, corpus fingerprint
    documents.jsonl    cleaned documents with metadata and the map to the original text
    annotations.jsonl  sentences, entities and noun chunks per document
    chunks.jsonl       chunk id, doc id, offsets and text
    bm25.json          BM25 parameters and chunk terms
    dense.faiss        FAISS index keyed by chunk id
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexError_

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise IndexError_(f"{path.name} line {n} is not valid JSON") from exc
    except OSError as exc:
        raise IndexError_(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a saved index, checked for a format this version can read."""
    path = directory / MANIFEST
    if not path.exists():
        raise IndexError_(f"no index in {directory} (missing {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexError_(f"index manifest {path} is unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise IndexError_(f"index manifest {path} is not a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexError_(
            f"index in {directory} has format version {version!r}; this version of qa reads "
            f"{FORMAT_VERSION}"
        )
    return manifest


def check_target(target: Path) -> None:
    """Refuse to write an index over anything that is not one: a file, or a folder that holds
    files but no manifest. Saving swaps the whole folder, so its contents would be lost.

    Raises:
        IndexError_: with the path and what to do instead.
    """
    target = Path(target)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise IndexError_(
            f"{target} exists and is not a folder; give --index a new or empty folder"
        )
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise IndexError_(
            f"{target} is a folder that holds files but no qa index ({MANIFEST} missing); "
            "give --index a new or empty folder, so that nothing in it is overwritten"
        )


def check_not_inside(index: Path, corpus: Path) -> None:
    """Refuse an index folder equal to or inside the corpus folder (it would index itself,
    and a save would swap away the corpus)."""
    try:
        index_r, corpus_r = Path(index).resolve(), Path(corpus).resolve()
    except OSError:
        return
    if index_r == corpus_r or corpus_r in index_r.parents:
        raise IndexError_(
            f"the index folder {index} is inside the corpus folder {corpus}; "
            "put the index outside the corpus (for example --index index)"
        )


def atomic_directory(target: Path) -> "_AtomicDir":
    """Context manager yielding a temporary folder that replaces ``target`` on success.

    If anything fails before the swap, the temporary folder is removed and ``target`` is left
    as it was, so a crash never leaves a half-written index in its place.
    """
    return _AtomicDir(Path(target))


class _AtomicDir:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        check_target(self.target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        for f in self.tmp.iterdir():
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
