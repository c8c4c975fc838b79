"""Index persistence: a directory of SQLite, JSON and FAISS files, written atomically.

Layout::

    manifest.json      format version, package version, model, config, counts, corpus folder
                       stats, the SHA-256 of every other file
    store.sqlite       documents (text, metadata, the map to the original), their sentences,
                       entities and noun chunks, and chunk offsets (qa.docstore, read lazily)
    store-delta.sqlite changes since store.sqlite was written (after a small save)
    bm25.json          BM25 parameters and chunk terms (rank-bm25), or
    bm25.tantivy/      a tantivy index (qa.lexical_tantivy), for large corpora
    dense.faiss        FAISS index keyed by chunk id
    dense-delta.npz    vectors added and ids removed since dense.faiss was written
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qa.errors import IndexError_

FORMAT_VERSION = 2  # 2: documents, annotations and chunks moved from JSON Lines to SQLite
MANIFEST = "manifest.json"


def index_files(directory: Path) -> list[str]:
    """Every file of an index being written but the manifest (which records their checksums),
    as paths relative to ``directory``."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.is_file() and p.name != MANIFEST)


class FormatVersionError(IndexError_):
    """A saved index in a format this version does not read (rebuild it from the corpus)."""


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
        raise FormatVersionError(
            f"index in {directory} has format version {version!r}; this version of qa reads "
            f"{FORMAT_VERSION}"
        )
    return manifest


# SHA-256 by file identity (device, inode, size, modification time): a file hard-linked into
# each new version (the store, the FAISS file, tantivy's segments) is hashed once per process,
# not again at every save, so a small save stays small. Any write to a file changes its time.
_SUMS: dict[tuple[int, int, int, int], str] = {}


def file_checksums(directory: Path, names: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each named file: the manifest records them, loading verifies them."""
    import hashlib

    out = {}
    for name in names:
        path = directory / name
        st = path.stat()
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _SUMS:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            if len(_SUMS) > 100_000:
                _SUMS.clear()
            _SUMS[key] = h.hexdigest()
        out[name] = _SUMS[key]
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

    from importlib.metadata import version

    from qa import __version__
    from qa.config import to_json

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": r.config.model,
        "dim": r.encoder.dim,
        "config": to_json(r.config),
        "index_key": r.config.index_key(),
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
            # From the installed metadata: importing sentence-transformers (a server runs the
            # encoder on ONNX Runtime without it) made a first save take seconds longer.
            "faiss": version("faiss-cpu"),
            "sentence_transformers": version("sentence-transformers"),
        },
    }


def save_index(r, target: Path) -> None:
    """Write ``r`` to ``target`` atomically (the old index stays until the swap)."""
    with atomic_directory(target) as tmp:
        delta = r.store.save_into(tmp)
        r.lexical.save(tmp / r.lexical.FILE)
        dense_delta = r.dense.save_into(tmp)
        data = manifest(r)
        data["checksums"] = file_checksums(tmp, index_files(tmp))
        # The manifest goes last: a folder without it is never mistaken for an index.
        (tmp / MANIFEST).write_text(json.dumps(data, indent=2), "utf-8")
    # From now on read the rows from the saved file; what was added is no longer held twice.
    r.store.saved_into(tmp, delta)
    r.dense.saved_into(tmp, dense_delta)


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
    from qa.dense import DenseIndex
    from qa.docstore import DocStore
    from qa.lexical import load_lexical

    data = read_manifest(directory)
    verify_checksums(directory, data)
    saved = _saved_config(directory, data, config)
    r = cls(config or saved, encoder)
    if r.encoder.dim != data.get("dim"):
        raise IndexError_(f"index dimension {data.get('dim')} != model's {r.encoder.dim}")
    r.store = DocStore.open(directory)
    r.lexical = load_lexical(directory, str(data.get("lexical_engine", "rank-bm25")))
    r.dense = DenseIndex.open(directory, r.encoder.dim, r.config.dense_index, r.config.nprobe)
    try:
        r._next_id = int(data.get("next_id", r.chunks.max_id() + 1))
    except (TypeError, ValueError):
        raise IndexError_(f"index manifest in {directory} has an invalid next_id") from None
    if r._next_id <= r.chunks.max_id():
        raise IndexError_(f"index manifest in {directory} has an invalid next_id")
    if len(r.lexical) != len(r.chunks) or len(r.dense) != (0 if r.remote else len(r.chunks)):
        raise IndexError_(f"index in {directory} is inconsistent (chunk counts differ)")
    problem = r.store.problem()
    if problem:
        raise IndexError_(f"index in {directory} is inconsistent ({problem})")
    stats = data.get("corpus_stats")
    r.corpus_stats = stats if isinstance(stats, dict) else None
    if r.remote is not None:  # Milvus is written before the local save: repair a crash between
        r.remote.reconcile(r.chunks, lambda texts: r.encoder.encode(texts, batch_size=r.config.batch_size))
    return r
