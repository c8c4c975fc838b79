"""Rows of the document store (:mod:`qa.docstore`): documents, annotations and chunk offsets
as SQLite rows and back, and writing a store file from rows in bounded memory."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from qa.annotate import Annotation
from qa.documents import corpus_fingerprint
from qa.types import Chunk, Document, Segment

SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT NULL,
                        fingerprint TEXT NOT NULL);
CREATE TABLE annotations (doc_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE chunks (chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL,
                     start_char INTEGER NOT NULL, end_char INTEGER NOT NULL);
CREATE INDEX chunks_by_doc ON chunks (doc_id);
"""
_BATCH = 10_000


def document_row(d: Document) -> tuple[str, str, str, str]:
    """(doc_id, text, meta, fingerprint). ``raw`` is stored only when cleaning changed the text:
    for plain text files it is the same string, and would double the file."""
    meta = {"title": d.title, "publisher": d.publisher, "date": d.date, "author": d.author,
            "path": d.path, "segments": [[s.start, s.raw_start, s.length] for s in d.segments]}
    if d.raw != d.text:
        meta["raw"] = d.raw
    return d.doc_id, d.text, json.dumps(meta, ensure_ascii=False), corpus_fingerprint([d])[d.doc_id]


def document_from_row(doc_id: str, text: str, meta: str) -> Document:
    m = json.loads(meta)
    return Document(doc_id=doc_id, text=text, raw=m.get("raw", text), title=m["title"],
                    publisher=m["publisher"], date=m["date"], author=m["author"], path=m["path"],
                    segments=tuple(Segment(*s) for s in m["segments"]))


def annotation_row(a: Annotation) -> tuple[str, str]:
    return a.doc_id, json.dumps(a.to_json())


def chunk_row(c: Chunk) -> tuple[int, str, int, int]:
    return c.chunk_id, c.doc_id, c.start, c.end


def create(path: Path, documents: Iterable[tuple], annotations: Iterable[tuple],
           chunks: Iterable[tuple]) -> None:
    """Write a new store file from rows (:func:`document_row`, :func:`annotation_row`,
    :func:`chunk_row`), streamed in batches so memory stays bounded."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SCHEMA)
        insert(conn, documents, annotations, chunks)
    finally:
        conn.close()


def insert(conn: sqlite3.Connection, documents, annotations, chunks) -> None:
    for sql, rows in (("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?)", documents),
                      ("INSERT OR REPLACE INTO annotations VALUES (?, ?)", annotations),
                      ("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)", chunks)):
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= _BATCH:
                conn.executemany(sql, batch)
                batch.clear()
        conn.executemany(sql, batch)
    conn.commit()
