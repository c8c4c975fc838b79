"""Shared state of a running server: one assistant, corpus management, the HTTP API.

Reads never lock: each request takes the current assistant. Writes (upload, reset) build a
new retriever from the saved index under a lock, save it atomically, then swap it in, so a
failed upload leaves both the saved index and the live one as they were.
"""

import logging
import shutil
import threading
from pathlib import Path

from qa.assistant import Assistant
from qa.config import ReaderConfig
from qa.documents import SUPPORTED_SUFFIXES, load_file, load_folder
from qa.errors import CorpusError, QAError
from qa.paths import default_corpus, default_index
from qa.retriever import Retriever

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class Service:
    """The assistant behind the UI and the HTTP API."""

    def __init__(
        self,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        reader_config: ReaderConfig | None = None,
    ) -> None:
        self.corpus = Path(corpus or default_corpus())
        self.index = Path(index or default_index())
        self.uploads = self.index.parent / f"{self.index.name}-uploads"
        self.reader_config = reader_config or ReaderConfig()
        self._lock = threading.Lock()
        from qa import store

        store.check_not_inside(self.index, self.corpus)
        store.check_not_inside(self.uploads, self.corpus)
        store.check_target(self.index)
        docs = load_folder(self.corpus)
        if self.uploads.is_dir() and any(self.uploads.iterdir()):
            docs += load_folder(self.uploads, skip_bad=True)
        self.assistant = Assistant(Retriever.open(self.index, docs), self.reader_config)

    @property
    def retriever(self) -> Retriever:
        return self.assistant.retriever

    def documents(self) -> list[dict]:
        """Indexed documents for display: id, title, citation, size, uploaded or seed."""
        uploaded = {p.stem for p in self.uploads.glob("*")} if self.uploads.is_dir() else set()
        return [
            {
                "doc_id": d.doc_id,
                "title": d.title,
                "citation": d.citation(),
                "chars": len(d.text),
                "uploaded": d.doc_id in uploaded,
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
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise CorpusError(
                f"{name} is {size / 1e6:.1f} MB; the upload limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB"
            )
        self.uploads.mkdir(parents=True, exist_ok=True)
        staged = self.uploads / f".staging-{name}"
        shutil.copyfile(path, staged)
        try:
            doc = load_file(staged)
            doc_id = Path(name).stem
            from dataclasses import replace

            doc = replace(doc, doc_id=doc_id, path=str(self.uploads / name),
                          title=doc.title if doc.title != staged.stem else doc_id)
            with self._lock:
                fresh = Retriever.load(self.index, encoder=self.retriever.encoder)
                fresh.add_documents([doc])
                fresh.save(self.index)
                staged.replace(self.uploads / name)
                self.assistant = Assistant(fresh, self.reader_config)
        finally:
            staged.unlink(missing_ok=True)
        return doc_id

    def reset(self) -> None:
        """Back to the seed corpus: uploaded documents are dropped from the index."""
        with self._lock:
            fresh = Retriever.load(self.index, encoder=self.retriever.encoder)
            fresh.sync(load_folder(self.corpus))
            fresh.save(self.index)
            shutil.rmtree(self.uploads, ignore_errors=True)
            self.assistant = Assistant(fresh, self.reader_config)


def _request_models():
    """Request bodies, built lazily so the core package does not need pydantic."""
    from pydantic import BaseModel, Field

    class SearchRequest(BaseModel):
        query: str
        k: int = Field(5, ge=1, le=1000)
        mode: str = "hybrid"

    class AskRequest(BaseModel):
        question: str
        history: list[str] = Field(default_factory=list, max_length=20)

    return SearchRequest, AskRequest


def create_api(service: Service):
    """FastAPI routes: POST /api/search, POST /api/ask, GET /api/health."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from qa.cli import hit_json, reply_json

    SearchRequest, AskRequest = _request_models()
    app = FastAPI(title="qa", description="Extractive question answering over a corpus.")

    @app.exception_handler(QAError)
    async def _qa_error(request: Request, exc: QAError):
        return JSONResponse(status_code=400, content={"error": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error; see server log"})

    @app.get("/api/health")
    def health() -> dict:
        r = service.retriever
        return {"status": "ok", "documents": len(r.documents), "chunks": len(r.chunks)}

    @app.post("/api/search")
    def search(req: SearchRequest) -> list[dict]:  # type: ignore[valid-type]
        r = service.retriever
        return [hit_json(r, h) for h in r.search(req.query, k=req.k, mode=req.mode)]

    @app.post("/api/ask")
    def ask(req: AskRequest) -> dict:  # type: ignore[valid-type]
        assistant = service.assistant
        return reply_json(assistant, assistant.ask(req.question, req.history))

    return app
