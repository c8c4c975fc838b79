"""Index persistence: a directory of JSON/JSONL files and a FAISS index, written atomically.

Layout::

    manifest.json      format version, package version, model, config, corpus fingerprint
    documents.jsonl    cleaned documents with metadata and the map to the original text
    annotations.jsonl  sentences, entities and noun chunks per document
    chunks.jsonl       chunk id, doc id, offsets and text
    bm25.json          BM25 parameters and chunk terms (rank-bm25), or
    bm25.tantivy/      a tantivy index (qa.lexical_tantivy), for large corpora
    dense.faiss        FAISS index keyed by chunk id
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexError_
from qa.types import Document, Segment

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def index_files(directory: Path) -> list[str]:
    """Every file of an index being written but the manifest (which records their checksums),
    as paths relative to ``directory``."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.is_file() and p.name != MANIFEST)


def document_json(d: Document) -> dict[str, Any]:
    """A document as one line of documents.jsonl (segments as [start, raw_start, length])."""
    row = dataclasses.asdict(d)
    row["segments"] = [[s.start, s.raw_start, s.length] for s in d.segments]
    return row


def document_from_json(row: dict[str, Any]) -> Document:
    row = dict(row)
    row["segments"] = tuple(Segment(*s) for s in row.get("segments", ()))
    return Document(**row)


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
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON
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


def file_checksums(directory: Path, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each named file: the manifest records them, loading verifies them."""
    import hashlib

    out = {}
    for name in names:
        h = hashlib.sha256()
        with (directory / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        out[name] = h.hexdigest()
    return out


def verify_checksums(directory: Path, manifest: dict[str, Any]) -> None:
    """Raise IndexError_ when a file differs from the checksum its manifest recorded."""
    recorded = manifest.get("checksums")
    if not isinstance(recorded, dict) or not recorded:
        raise IndexError_(f"index manifest in {directory} has no file checksums")
    try:
        actual = file_checksums(directory, recorded)
    except OSError as exc:
        raise IndexError_(f"index file missing or unreadable in {directory} ({exc.strerror or exc})") from None
    damaged = sorted(n for n in recorded if recorded[n] != actual.get(n))
    if damaged:
        raise IndexError_(f"index files in {directory} were changed or damaged: {', '.join(damaged)}")


def check_target(target: Path) -> None:
    """Refuse to write an index over anything that is not one: a file, or a folder that holds
    files but no manifest. Saving swaps the whole folder, so its contents would be lost.

    Raises:
        IndexError_: with the path and what to do instead.
    """
    target = Path(target)
    if target.is_symlink() and not (target / MANIFEST).is_file():
        raise IndexError_(
            f"{target} is a link to something that is not a qa index; give --index a new or empty folder"
        )
    if target.exists() and not target.is_dir():
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
    """Context manager yielding a new folder that becomes ``target`` on success.

    ``target`` is a symbolic link to a versioned folder beside it (``.NAME.v-…``). A save writes
    a new version, then swaps the link in one ``os.replace``: at every instant ``target`` is a
    complete index, the old or the new one. A failed save removes its folder and leaves
    ``target`` as it was. Writers take a lock file (``.NAME.lock``); a second writer is told
    another save is under way.
    """
    return _AtomicDir(Path(target))


class _AtomicDir:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp: Path | None = None
        self._lock = None

    def _name(self, kind: str) -> Path:
        return self.target.with_name(f".{self.target.name}.{kind}")

    def __enter__(self) -> Path:
        import fcntl

        check_target(self.target)
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._lock = open(self._name("lock"), "w")
        except OSError as exc:
            raise IndexError_(
                f"cannot write an index at {self.target}: {exc.strerror or exc}; "
                "choose a writable --index folder"
            ) from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise IndexError_(
                f"another process is saving the index at {self.target}; try again when it is done"
            ) from None
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.v-", dir=self.target.parent))
        except OSError as exc:
            self._release()
            raise IndexError_(f"cannot write an index at {self.target}: {exc.strerror or exc}") from None
        return self.tmp

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing drops the flock
            self._lock = None

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        try:
            if exc_type is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                return
            try:
                self._swap()
            except OSError as err:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self._name(f"link-{os.getpid()}").unlink(missing_ok=True)
                raise IndexError_(
                    f"cannot write an index at {self.target}: {err.strerror or err}; "
                    "choose a writable --index folder"
                ) from None
        finally:
            self._release()

    def _swap(self) -> None:
        assert self.tmp is not None
        for f in self.tmp.rglob("*"):
            if f.is_dir():
                _fsync_dir(f)  # an engine's own folder (bm25.tantivy/)
                continue
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        previous = self.target.resolve() if self.target.is_symlink() else None
        link = self._name(f"link-{os.getpid()}")
        link.unlink(missing_ok=True)
        os.symlink(self.tmp.name, link)
        if self.target.is_dir() and not self.target.is_symlink():
            # An index from before versioned saves: a plain folder cannot be swapped for a link
            # in one step, so it is moved aside first (the one non-atomic moment, once).
            legacy = self._name(f"old-{os.getpid()}")
            os.replace(self.target, legacy)
            os.replace(link, self.target)
            shutil.rmtree(legacy, ignore_errors=True)
        else:
            os.replace(link, self.target)
        _fsync_dir(self.target.parent)
        if previous is not None and previous != self.tmp.resolve():
            shutil.rmtree(previous, ignore_errors=True)
        self._sweep()

    def _sweep(self) -> None:
        """Remove versions left by saves that died before their swap."""
        live = self.target.resolve()
        for old in self.target.parent.glob(f".{self.target.name}.v-*"):
            if old.resolve() != live:
                shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----- the retriever's index: write, read, check ---------------------------------------------
def rebuild_hint(directory: Path) -> str:
    return f"Rebuild it with: qa index --rebuild --index {directory} --corpus <folder>"


def manifest(r) -> dict[str, Any]:
    """What a saved index says about itself; ``r`` is a :class:`qa.retriever.Retriever`."""
    import platform
    import time

    import faiss
    import sentence_transformers

    from qa import __version__
    from qa.config import to_json

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": r.config.model,
        "dim": r.encoder.dim,
        "config": to_json(r.config),
        "index_key": r.config.index_key(),
        "corpus_fingerprint": r.fingerprint(),
        # File sizes and times of the corpus folder it was synced with: an unchanged folder is
        # recognised without reading a file.
        "corpus_stats": r.corpus_stats,
        "documents": len(r.documents),
        "chunks": len(r.chunks),
        "next_id": r._next_id,
        "lexical_engine": r.lexical.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {
            "python": platform.python_version(),
            "faiss": faiss.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
    }


def save_index(r, target: Path) -> None:
    """Write ``r`` to ``target`` atomically (the old index stays until the swap)."""
    with atomic_directory(target) as tmp:
        write_jsonl(tmp / "documents.jsonl", (document_json(d) for d in r.documents.values()))
        write_jsonl(tmp / "annotations.jsonl", (a.to_json() for a in r.annotations.values()))
        write_jsonl(tmp / "chunks.jsonl", (
            {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "start": c.start, "end": c.end}
            for c in r.chunks.values()))
        r.lexical.save(tmp / r.lexical.FILE)
        r.dense.save(tmp / "dense.faiss")
        data = manifest(r)
        data["checksums"] = file_checksums(tmp, index_files(tmp))
        # The manifest goes last: a folder without it is never mistaken for an index.
        (tmp / MANIFEST).write_text(json.dumps(data, indent=2), "utf-8")


def saved_config(directory: Path, data: dict[str, Any]):
    """The RetrieverConfig a manifest records; IndexError_ when it is not one."""
    from qa.config import RetrieverConfig, from_json
    from qa.errors import QAError

    try:
        return from_json(RetrieverConfig, data["config"])
    except (KeyError, TypeError, ValueError, AttributeError, QAError) as exc:
        raise IndexError_(f"index config in {directory} is invalid ({exc})") from exc


def _saved_config(directory: Path, data: dict[str, Any], config):
    saved = saved_config(directory, data)
    built = data.get("index_key")
    if not isinstance(built, dict) or built.get("tokenizer") != saved.index_key()["tokenizer"]:
        tok = built.get("tokenizer") if isinstance(built, dict) else None
        raise IndexError_(
            f"index in {directory} was built with tokenizer version {tok!r}; this version "
            f"of qa uses {saved.index_key()['tokenizer']}"
        )
    if config is not None and config.index_key() != saved.index_key():
        raise IndexError_(f"index in {directory} was built with {saved.index_key()}, not {config.index_key()}")
    return saved


def load_index(cls, directory: Path, encoder, config):
    """Read the index in ``directory`` into a new ``cls`` (a Retriever); IndexError_ on any
    damage or mismatch."""
    from qa.annotate import Annotation
    from qa.dense import DenseIndex
    from qa.lexical import load_lexical
    from qa.types import Chunk

    data = read_manifest(directory)
    verify_checksums(directory, data)
    saved = _saved_config(directory, data, config)
    r = cls(config or saved, encoder)
    if r.encoder.dim != data.get("dim"):
        raise IndexError_(f"index dimension {data.get('dim')} != model's {r.encoder.dim}")
    try:
        for row in read_jsonl(directory / "documents.jsonl"):
            doc = document_from_json(row)
            r.documents[doc.doc_id] = doc
        for row in read_jsonl(directory / "annotations.jsonl"):
            r.annotations[row["doc_id"]] = Annotation.from_json(row)
        for row in read_jsonl(directory / "chunks.jsonl"):
            doc = r.documents[row["doc_id"]]
            start, end = int(row["start"]), int(row["end"])
            r.chunks[int(row["chunk_id"])] = Chunk(doc.doc_id, doc.text[start:end], start, end, int(row["chunk_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexError_(f"index files in {directory} are inconsistent ({exc})") from exc
    r.lexical = load_lexical(directory, str(data.get("lexical_engine", "rank-bm25")))
    r.dense = DenseIndex.load(directory / "dense.faiss", r.encoder.dim, r.config.dense_index, r.config.nprobe)
    try:
        r._next_id = int(data.get("next_id", max(r.chunks, default=-1) + 1))
    except (TypeError, ValueError):
        raise IndexError_(f"index manifest in {directory} has an invalid next_id") from None
    if r._next_id <= max(r.chunks, default=-1):
        raise IndexError_(f"index manifest in {directory} has an invalid next_id")
    if len(r.lexical) != len(r.chunks) or len(r.dense) != (0 if r.remote else len(r.chunks)):
        raise IndexError_(f"index in {directory} is inconsistent (chunk counts differ)")
    if set(r.annotations) != set(r.documents):
        raise IndexError_(f"index in {directory} is inconsistent (annotations missing)")
    stats = data.get("corpus_stats")
    r.corpus_stats = stats if isinstance(stats, dict) else None
    if r.remote is not None:  # Milvus is written before the local save: repair a crash between
        r.remote.reconcile(r.chunks, lambda texts: r.encoder.encode(texts, batch_size=r.config.batch_size))
    return r
