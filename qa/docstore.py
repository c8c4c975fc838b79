"""Documents, annotations and chunk offsets of an index: one SQLite file, read lazily.

A million chunks cannot be held as Python objects and re-read whole on every open, so the
saved file (``store.sqlite``) is opened read-only and only the rows a search or a reader asks
for are read (with a small cache of decoded rows). Chunk text is not stored: it is a slice of
its document, taken by SQLite.

The saved file is never written to. Adding or removing documents changes an overlay held in
memory. A save (:meth:`DocStore.save_into`, into the new version folder that
:func:`qa.store.atomic_directory` swaps in whole) hard-links the saved file and writes the
overlay beside it as a small delta file, so saving after adding one document to a million
chunks costs that document; a large overlay is merged into a new whole file instead. Opening
reads the delta back into the overlay. A failed operation never changes the saved index.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from qa.annotate import Annotation
from qa.docstore_rows import (  # noqa: F401 (the row helpers are part of this module's interface)
    annotation_row, chunk_row, create, document_from_row, document_row, insert,
)
from qa.documents import corpus_fingerprint
from qa.errors import IndexError_
from qa.types import Chunk, Document

FILE = "store.sqlite"
DELTA = "store-delta.sqlite"  # changes since store.sqlite was written, when a save was small
_REMOVED = "CREATE TABLE removed (tbl TEXT NOT NULL, key TEXT NOT NULL);"
_CACHE = 1024  # decoded documents and annotations kept per store
# A save writes only the changes (a delta beside the shared, hard-linked store file) until they
# reach an eighth of the saved rows, or this many: then the store is written whole again, so
# open time and memory stay bounded and a growing index is rewritten O(log n) times.
_DELTA_ROWS = 20_000

K = TypeVar("K")
V = TypeVar("V")


# ----- the saved file ----------------------------------------------------------------------
class _Saved:
    """A saved store file, opened read-only. ``immutable`` tells SQLite that nobody writes it
    (true: saves write new files), so reads take no file locks."""

    def __init__(self, path: Path) -> None:
        from urllib.parse import quote

        self.path = path.resolve()  # the version folder, not a link a later save may move
        try:
            self.conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro&immutable=1",
                                        uri=True, check_same_thread=False)
            self.lock = threading.Lock()  # one connection, shared by the server's threads
            st = self.path.stat()
            # To know that the file at self.path is still this one, and unchanged.
            self.inode = (st.st_dev, st.st_ino)
            self.stamp = (st.st_size, st.st_mtime_ns)
            self.count = {t: self.one(f"SELECT COUNT(*) FROM {t}")[0]
                          for t in ("documents", "annotations", "chunks")}
        except (sqlite3.Error, OSError) as exc:
            raise IndexError_(f"document store {path} is unreadable ({exc})") from None
        self.document = functools.lru_cache(maxsize=_CACHE)(self._document)
        self.annotation = functools.lru_cache(maxsize=_CACHE)(self._annotation)

    def one(self, sql: str, args: tuple = ()) -> tuple | None:
        with self.lock:
            return self.conn.execute(sql, args).fetchone()

    def all(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def _document(self, doc_id: str) -> Document | None:
        row = self.one("SELECT text, meta FROM documents WHERE doc_id = ?", (doc_id,))
        return None if row is None else document_from_row(doc_id, *row)

    def _annotation(self, doc_id: str) -> Annotation | None:
        row = self.one("SELECT data FROM annotations WHERE doc_id = ?", (doc_id,))
        return None if row is None else Annotation.from_json(json.loads(row[0]))

    def chunk(self, chunk_id: int) -> Chunk | None:
        # SQLite's substr counts characters (1-based), as Python slices do.
        row = self.one("SELECT c.doc_id, c.start_char, c.end_char, "
                       "substr(d.text, c.start_char + 1, c.end_char - c.start_char) "
                       "FROM chunks c JOIN documents d USING (doc_id) WHERE c.chunk_id = ?",
                       (int(chunk_id),))
        return None if row is None else Chunk(row[0], row[3], row[1], row[2], int(chunk_id))

    def copy_to(self, path: Path) -> None:
        """Copy through the open connection: the file may have been swapped away since."""
        dest = sqlite3.connect(path)
        try:
            with self.lock:
                self.conn.backup(dest)
        finally:
            dest.close()


# ----- the three tables: saved rows plus changes in memory ---------------------------------
class _Table(MutableMapping, Generic[K, V]):
    """A mapping over one table: the saved rows, minus ``removed``, plus ``added``.

    Invariant: ``removed`` holds only saved keys, and no key of ``added`` is a live saved key,
    so the length is ``saved - removed + added`` without reading a row.
    """

    TABLE = KEY = ""

    def __init__(self, store: "DocStore") -> None:
        self.store = store
        self.added: dict[K, V] = {}
        self.removed: set[K] = set()

    def _get_saved(self, key: K) -> V | None:
        raise NotImplementedError

    def _saved_live(self, key: K) -> bool:
        saved = self.store.saved
        if saved is None or key in self.removed:
            return False
        return saved.one(f"SELECT 1 FROM {self.TABLE} WHERE {self.KEY} = ?", (key,)) is not None

    def __getitem__(self, key: K) -> V:
        if key in self.added:
            return self.added[key]
        value = None if key in self.removed or self.store.saved is None else self._get_saved(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.added or self._saved_live(key)  # type: ignore[arg-type]

    def __setitem__(self, key: K, value: V) -> None:
        if self._saved_live(key):
            self.removed.add(key)  # the new value shadows the saved row
        self.added[key] = value

    def __delitem__(self, key: K) -> None:
        if key in self.added:
            del self.added[key]
        elif self._saved_live(key):
            self.removed.add(key)
        else:
            raise KeyError(key)

    def __len__(self) -> int:
        saved = self.store.saved
        return (saved.count[self.TABLE] if saved else 0) - len(self.removed) + len(self.added)

    def __iter__(self) -> Iterator[K]:
        saved = self.store.saved
        if saved is not None:
            keys = [r[0] for r in saved.all(f"SELECT {self.KEY} FROM {self.TABLE} ORDER BY {self.KEY}")]
            yield from (k for k in keys if k not in self.removed)
        yield from list(self.added)


class Documents(_Table[str, Document]):
    TABLE, KEY = "documents", "doc_id"

    def values(self) -> list[Document]:  # type: ignore[override]
        """Every live document, read in one query (not one per key), ordered by id."""
        saved = self.store.saved
        rows = saved.all("SELECT doc_id, text, meta FROM documents ORDER BY doc_id") if saved else []
        return [document_from_row(*r) for r in rows if r[0] not in self.removed] + list(self.added.values())

    def _get_saved(self, key: str) -> Document | None:
        return self.store.saved.document(key) if isinstance(key, str) else None


class Annotations(_Table[str, Annotation]):
    TABLE, KEY = "annotations", "doc_id"

    def _get_saved(self, key: str) -> Annotation | None:
        return self.store.saved.annotation(key) if isinstance(key, str) else None


class Chunks(_Table[int, Chunk]):
    TABLE, KEY = "chunks", "chunk_id"

    def __init__(self, store: "DocStore") -> None:
        super().__init__(store)
        self._by_doc: dict[str, set[int]] = {}  # the added chunks of each document

    def _get_saved(self, key: int) -> Chunk | None:
        return self.store.saved.chunk(key) if isinstance(key, int) else None

    def __setitem__(self, key: int, value: Chunk) -> None:
        super().__setitem__(key, value)
        self._by_doc.setdefault(value.doc_id, set()).add(key)

    def __delitem__(self, key: int) -> None:
        if key in self.added:
            self._by_doc.get(self.added[key].doc_id, set()).discard(key)
        super().__delitem__(key)

    def ids_of(self, doc_ids: Iterable[str]) -> set[int]:
        """The live chunk ids of these documents, from an index on the saved rows."""
        doc_ids = list(doc_ids)
        out = {i for d in doc_ids for i in self._by_doc.get(d, ())}
        saved = self.store.saved
        if saved is not None:
            for a in range(0, len(doc_ids), 500):  # SQLite caps the parameters of one query
                part = doc_ids[a: a + 500]
                rows = saved.all(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})",
                                 tuple(part))
                out.update(r[0] for r in rows if r[0] not in self.removed)
        return out

    def max_id(self) -> int:
        saved_max = self.store.saved.one("SELECT MAX(chunk_id) FROM chunks")[0] if self.store.saved else None
        return max([k for k in (saved_max,) if k is not None] + list(self.added), default=-1)


class DocStore:
    """The documents, annotations and chunks of one index, as three mappings.

    Example:
        >>> s = DocStore()
        >>> s.documents["a"] = doc; s.annotations["a"] = ann; s.chunks[0] = chunk
        >>> s.write(Path("v2/store.sqlite")); s.rebase(Path("v2/store.sqlite"))
        >>> s.chunks[0].text  # read back from the file
    """

    def __init__(self, path: Path | None = None) -> None:
        self.saved: _Saved | None = _Saved(Path(path)) if path is not None else None
        self.documents = Documents(self)
        self.annotations = Annotations(self)
        self.chunks = Chunks(self)

    @property
    def changed(self) -> bool:
        return any(t.added or t.removed for t in self._tables())

    def _tables(self) -> tuple[_Table, ...]:
        return self.documents, self.annotations, self.chunks

    def fingerprints(self) -> dict[str, str]:
        """doc id → :func:`qa.documents.corpus_fingerprint` of every live document."""
        out = {}
        if self.saved is not None:
            gone = self.documents.removed
            out = {d: f for d, f in self.saved.all("SELECT doc_id, fingerprint FROM documents") if d not in gone}
        out.update(corpus_fingerprint(self.documents.added.values()))
        return out

    def problem(self) -> str | None:
        """What is inconsistent between the tables, or None."""
        if len(self.documents) != len(self.annotations):
            return "annotations missing"
        if self.saved is not None and self.saved.one(
                "SELECT 1 FROM documents d LEFT JOIN annotations a USING (doc_id) WHERE a.doc_id IS NULL"):
            return "annotations missing"
        return None

    @classmethod
    def open(cls, directory: Path) -> "DocStore":
        """The store saved in an index folder: its file, plus the delta file when there is one."""
        s = cls(directory / FILE)
        if (directory / DELTA).exists():
            s._read_delta(directory / DELTA)
        return s

    def _read_delta(self, path: Path) -> None:
        delta = _Saved(path)
        try:
            docs = {r[0]: document_from_row(*r) for r in delta.all("SELECT doc_id, text, meta FROM documents")}
            anns = {r[0]: Annotation.from_json(json.loads(r[1])) for r in delta.all("SELECT * FROM annotations")}
            self.documents.added, self.annotations.added = docs, anns
            for tbl, key in delta.all("SELECT tbl, key FROM removed"):
                table = {t.TABLE: t for t in self._tables()}[tbl]
                table.removed.add(int(key) if table is self.chunks else key)
            # Set directly: the delta was written from an overlay, so its keys need no check.
            for cid, doc_id, a, b in delta.all("SELECT * FROM chunks"):
                self.chunks.added[cid] = Chunk(doc_id, self.documents[doc_id].text[a:b], a, b, cid)
                self.chunks._by_doc.setdefault(doc_id, set()).add(cid)
        except (sqlite3.Error, KeyError, TypeError, ValueError) as exc:
            raise IndexError_(f"document store delta {path} is damaged ({exc})") from None

    def _link_saved(self, path: Path) -> bool:
        """Hard-link the saved file to ``path``: it is never written again, so versions can
        share it, provided the file now at its path is still the one this store reads."""
        try:
            os.link(self.saved.path, path)
            st = path.stat()
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != self.saved.inode:
            path.unlink()
            return False
        if (st.st_size, st.st_mtime_ns) != self.saved.stamp:
            path.unlink()  # linking it would carry the damage into the new version
            raise IndexError_(f"{self.saved.path} was changed by something else after it was opened; "
                              "rebuild the index with: qa index --rebuild")
        return True

    def save_into(self, directory: Path) -> bool:
        """Write the store into a new index folder. Returns True when only a delta was written
        (call :meth:`saved_into` once the folder is in place)."""
        rows = sum(len(t.added) + len(t.removed) for t in self._tables())
        if (self.saved is not None and rows <= max(_DELTA_ROWS, sum(self.saved.count.values()) // 8)
                and self._link_saved(directory / FILE)):
            if rows:
                self._write_delta(directory / DELTA)
            return True
        self.write(directory / FILE)
        return False

    def _write_delta(self, path: Path) -> None:
        create(path, (document_row(d) for d in self.documents.added.values()),
               (annotation_row(a) for a in self.annotations.added.values()),
               (chunk_row(c) for c in self.chunks.added.values()))
        conn = sqlite3.connect(path)
        try:
            conn.execute(_REMOVED)
            conn.executemany("INSERT INTO removed VALUES (?, ?)",
                             [(t.TABLE, str(k)) for t in self._tables() for k in t.removed])
            conn.commit()
        finally:
            conn.close()

    def saved_into(self, directory: Path, delta: bool) -> None:
        """After the folder written by :meth:`save_into` became the index: read from it."""
        if delta:
            self.saved.path = (directory / FILE).resolve()  # the same file, linked; the overlay stays
        else:
            self.rebase(directory / FILE)

    def write(self, path: Path) -> None:
        """Write every live row to a new file at ``path``."""
        if self.saved is not None and not self.changed and self._link_saved(path):
            return
        if self.saved is None:
            create(path, (document_row(d) for d in self.documents.added.values()),
                   (annotation_row(a) for a in self.annotations.added.values()),
                   (chunk_row(c) for c in self.chunks.added.values()))
            return
        self.saved.copy_to(path)
        conn = sqlite3.connect(path)
        try:
            for t in self._tables():
                conn.executemany(f"DELETE FROM {t.TABLE} WHERE {t.KEY} = ?", ((k,) for k in t.removed))
            insert(conn, (document_row(d) for d in self.documents.added.values()),
                    (annotation_row(a) for a in self.annotations.added.values()),
                    (chunk_row(c) for c in self.chunks.added.values()))
        finally:
            conn.close()

    def rebase(self, path: Path) -> None:
        """Read from the file just written at ``path`` and drop the overlay it now holds."""
        # The old connection is left to the garbage collector: a search in another thread
        # may still be reading through it.
        self.saved = _Saved(Path(path))
        for t in self._tables():
            t.added, t.removed = {}, set()
        self.chunks._by_doc = {}

    def info(self) -> dict[str, Any]:
        return {"documents": len(self.documents), "chunks": len(self.chunks),
                "file": str(self.saved.path) if self.saved else None}
