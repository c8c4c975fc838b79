"""Shared state of a running server: one assistant, corpus management, the HTTP API.

Reads never lock: each request takes the current assistant. Writes (upload, reset) build a
new retriever from the saved index under a lock, save it atomically, then swap it in, so a
failed upload leaves both the saved index and the live one as they were.
"""

import logging
import os
import shutil
import tempfile
from dataclasses import replace
import threading
from pathlib import Path

from qa import store
from qa.assistant import Assistant
from qa.config import ReaderConfig, RetrieverConfig
from qa.documents import (
    SUPPORTED_SUFFIXES, corpus_files, corpus_stats, load_file, load_folder, scan_folder,
)
from qa.errors import CorpusError, IndexError_, InputError
from qa.paths import default_corpus, default_index
from qa.retriever import Retriever

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Uploaded documents' ids are this plus the file name with its extension ("upload:notes.md"):
# they cannot collide with a corpus document (whose id has no extension and may not start
# with it), nor with each other ("notes.txt" and "notes.md" differ).
UPLOAD_PREFIX = "upload:"
# Every request body but a file upload: a question, a history, Gradio's event payloads.
MAX_BODY_BYTES = 256 * 1024
UPLOAD_PATH = "/gradio_api/upload"


class BodyLimit:
    """ASGI middleware: refuse a request body over its limit with 413, before anything parses
    it, whether or not it declares its length (chunked bodies are counted as they arrive)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES, upload_limit: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # multipart framing adds a little to the file itself
        limit = self.upload_limit + 64 * 1024 if scope["path"].startswith(UPLOAD_PATH) else self.limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await _too_large(send, limit)
        if scope["path"].startswith(UPLOAD_PATH):
            return await self._counted(scope, receive, send, limit)
        # Small bodies are read whole here, so an over-long one is refused before the app sees
        # a byte of it, then replayed to the app.
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                return await _too_large(send, limit)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _counted(self, scope, receive, send, limit: int):
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send, limit)


# The page needs Gradio's own scripts and inline styles, nothing from elsewhere. A served file
# (an upload) gets no scripts at all.
PAGE_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'")
FILE_CSP = "default-src 'none'; sandbox"


class SecurityHeaders:
    """ASGI middleware: ``nosniff`` on every response, a CSP on the page and on served files."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_file = "/file=" in scope["path"] or scope["path"].startswith("/gradio_api/file")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"x-content-type-options", b"content-security-policy")]
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"content-security-policy", (FILE_CSP if is_file else PAGE_CSP).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class _BodyTooLarge(Exception):
    pass


async def _json_error(send, status: int, message: str, extra=()) -> None:
    import json as _json

    body = _json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send, limit: int) -> None:
    await _json_error(send, 413, f"request body too large; the limit is {limit // 1024} KB")


class LoadShedder:
    """ASGI middleware: at most ``active`` API requests run at once (default: one per core; more
    only slow each other down), at most ``waiting`` wait for a turn, and the rest get 503 with
    ``Retry-After`` at once, so overload never grows an unbounded queue."""

    def __init__(self, app, active: int | None = None, waiting: int = 64, prefix: str = "/api/") -> None:
        import os

        self.app = app
        # One request per core: the readers' models use every core already.
        self.active = active or int(os.environ.get("QA_MAX_ACTIVE", 0)) or (os.cpu_count() or 2)
        self.max_waiting, self.prefix = waiting, prefix
        self.waiting = 0
        self._slots = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        import asyncio

        if self._slots is None:
            self._slots = asyncio.Semaphore(self.active)
        if self._slots.locked() and self.waiting >= self.max_waiting:
            return await _json_error(send, 503, "the server is busy; retry in a second",
                                     [(b"retry-after", b"1")])
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


def _has_uploads(folder: Path) -> bool:
    """Whether the uploads folder holds a file to load. An empty one (every upload refused, or
    only a staging file left by a crash) is no error: the service starts without uploads."""
    try:
        return folder.is_dir() and bool(corpus_files(folder, with_readme=True))
    except CorpusError as exc:
        log.info("no uploads to load: %s", exc)
        return False


class Service:
    """The assistant behind the UI and the HTTP API."""

    def __init__(
        self,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        reader_config: ReaderConfig | None = None,
        retriever_config: RetrieverConfig | None = None,
    ) -> None:
        self.corpus = Path(corpus or default_corpus())
        self.index = Path(index or default_index())
        self.uploads = self.index.parent / f"{self.index.name}-uploads"
        self.feedback_file = self.index.parent / f"{self.index.name}-feedback.jsonl"
        self.reader_config = reader_config or ReaderConfig()
        self._lock = threading.Lock()
        store.check_not_inside(self.index, self.corpus)
        store.check_not_inside(self.uploads, self.corpus)
        store.check_target(self.index)
        stats = corpus_stats(self.corpus)
        docs, self.skipped = scan_folder(self.corpus)
        if any(d.doc_id.startswith(UPLOAD_PREFIX) for d in docs):
            raise CorpusError(f"corpus file names must not start with {UPLOAD_PREFIX!r}: "
                              "that prefix marks uploaded documents")
        if _has_uploads(self.uploads):
            try:
                up, bad = scan_folder(self.uploads, id_prefix=UPLOAD_PREFIX, name_ids=True, with_readme=True)
                docs += up
                self.skipped += bad
            except CorpusError as exc:
                log.warning("no upload could be loaded: %s", exc)
        try:
            retriever = Retriever.open(self.index, docs, retriever_config, folder_stats=stats)
        except IndexError_ as exc:
            # The corpus is here, so a damaged index costs a rebuild, not an outage.
            log.warning("%s; rebuilding the index from %s", exc, self.corpus)
            retriever = Retriever.from_documents(docs, retriever_config)
            retriever.save(self.index)
        self.assistant = Assistant(retriever, self.reader_config)

    @property
    def retriever(self) -> Retriever:
        return self.assistant.retriever

    def threshold(self) -> float:
        """The confidence below which answers are withheld."""
        return self.assistant.threshold()

    def documents(self) -> list[dict]:
        """Indexed documents for display: id, title, citation, size, uploaded or seed."""
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "citation": d.citation(),
                "chars": len(d.text),
                "uploaded": d.doc_id.startswith(UPLOAD_PREFIX),
            }
            for d in sorted(self.retriever.documents.values(), key=lambda d: d.doc_id)
        ]

    def add_file(self, path: str | Path, name: str | None = None) -> str:
        """Index one uploaded file; returns its document id.

        Raises:
            CorpusError: wrong type, too large, unreadable or empty file. The index is untouched.
        """
        path = Path(path)
        name = Path(name or path.name).name
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise CorpusError(
                f"{name}: unsupported file type; upload {', '.join(SUPPORTED_SUFFIXES)} files"
            )
        if name.startswith("."):
            # Hidden files are not corpus files (the staging copies below are hidden): indexed
            # now, it would be dropped from the index at the next start.
            raise CorpusError(f"{name}: a hidden file name (starting with '.'); rename it and "
                              "upload it again")
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise CorpusError(
                f"{name} is {size / 1e6:.1f} MB; the upload limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB"
            )
        doc_id = UPLOAD_PREFIX + name
        self.uploads.mkdir(parents=True, exist_ok=True)
        # The whole add holds the lock: two uploads of one name are applied one after the
        # other, and the saved index, the uploads folder and the live assistant always agree.
        with self._lock:
            fd, tmp = tempfile.mkstemp(prefix=".staging-", suffix=suffix, dir=self.uploads)
            os.close(fd)
            staged = Path(tmp)
            try:
                shutil.copyfile(path, staged)
                try:
                    doc = load_file(staged)
                except CorpusError as exc:  # said of the file the user sent, not our staging copy
                    raise CorpusError(str(exc).replace(staged.name, name).replace(staged.stem, name)) from None
                doc = replace(doc, doc_id=doc_id, path=str(self.uploads / name),
                              title=doc.title if doc.title != staged.stem else name)
                fresh = Retriever.load(self.index, encoder=self.retriever.encoder)
                fresh.add_documents([doc])
                fresh.save(self.index)
                staged.replace(self.uploads / name)
                self.assistant = Assistant(fresh, self.reader_config)
            finally:
                staged.unlink(missing_ok=True)
        return doc_id

    def delete(self, doc_id: str) -> None:
        """Remove one uploaded document from the index and the uploads folder.

        Raises:
            InputError: the id names no uploaded document (corpus documents are removed from
                the corpus folder instead).
        """
        if not doc_id.startswith(UPLOAD_PREFIX) or doc_id not in self.retriever.documents:
            raise InputError(f"{doc_id!r} is not an uploaded document; the uploaded ones are: "
                             f"{', '.join(d for d in self.retriever.documents if d.startswith(UPLOAD_PREFIX)) or 'none'}")
        with self._lock:
            fresh = Retriever.load(self.index, encoder=self.retriever.encoder)
            fresh.remove_documents([doc_id])
            fresh.save(self.index)
            (self.uploads / doc_id[len(UPLOAD_PREFIX):]).unlink(missing_ok=True)
            self.assistant = Assistant(fresh, self.reader_config)

    def reset(self) -> None:
        """Back to the seed corpus: uploaded documents are dropped from the index."""
        with self._lock:
            fresh = Retriever.load(self.index, encoder=self.retriever.encoder)
            fresh.sync(load_folder(self.corpus))
            fresh.save(self.index)
            shutil.rmtree(self.uploads, ignore_errors=True)
            self.assistant = Assistant(fresh, self.reader_config)

    def feedback(self, question: str, answer: str | None, sources, verdict: str,
                 history=None) -> dict:
        """Record 👍 (``up``) or 👎 (``down``) on an answer in :attr:`feedback_file`
        (:mod:`qa.feedback`). Returns the stored row. Raises InputError for bad fields."""
        from qa import feedback

        entry = feedback.make_entry(question, answer, sources, verdict, history)
        feedback.append(self.feedback_file, entry)
        return entry
