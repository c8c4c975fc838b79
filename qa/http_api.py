"""The HTTP API served beside the UI: request models and FastAPI routes (see the README).

No ``from __future__ import annotations`` here: FastAPI reads the route annotations, and the
request models are local classes it could not resolve from strings."""

import logging

from qa.errors import QAError
from qa.service import Service

log = logging.getLogger(__name__)


def _request_models():
    """Request bodies, built lazily so the core package does not need pydantic."""
    from pydantic import BaseModel, ConfigDict, Field, field_validator

    from qa.query import MAX_RAW_QUERY_CHARS

    class Strict(BaseModel):
        # A misspelt field ("histroy") is refused by name rather than silently ignored.
        model_config = ConfigDict(extra="forbid")

    class SearchRequest(Strict):
        query: str = Field(max_length=MAX_RAW_QUERY_CHARS)
        k: int = Field(5, ge=1, le=1000)
        mode: str = "hybrid"

    class FeedbackRequest(Strict):
        question: str = Field(max_length=MAX_RAW_QUERY_CHARS)
        answer: str | None = Field(None, max_length=MAX_RAW_QUERY_CHARS)
        sources: list[str] = Field(default_factory=list, max_length=20)
        verdict: str
        history: list[str] = Field(default_factory=list, max_length=20)

    class AskRequest(Strict):
        question: str = Field(max_length=MAX_RAW_QUERY_CHARS)
        history: list[str] = Field(default_factory=list, max_length=20)

        @field_validator("history")
        @classmethod
        def _turns(cls, v: list[str]) -> list[str]:
            if any(len(t) > MAX_RAW_QUERY_CHARS for t in v):
                raise ValueError(f"each history turn must be at most {MAX_RAW_QUERY_CHARS} characters")
            return v

    return SearchRequest, AskRequest, FeedbackRequest


def create_api(service: Service):
    """FastAPI routes: POST /api/search, POST /api/ask, POST /api/feedback, GET /api/health."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from qa.presentation import hit_json, reply_json

    SearchRequest, AskRequest, FeedbackRequest = _request_models()
    app = FastAPI(title="qa", description="Extractive question answering over a corpus.")

    _error_handlers(app)

    @app.get("/api/health")
    def health() -> dict:
        r = service.retriever
        return {"status": "ok", "documents": len(r.documents), "chunks": len(r.chunks),
                "reader": service.assistant.reader.name,
                "skipped_files": [{"name": f.name, "reason": f.reason} for f in service.skipped]}

    @app.post("/api/search")
    def search(req: SearchRequest) -> list[dict]:  # type: ignore[valid-type]
        r = service.retriever
        return [hit_json(r, h) for h in r.search(req.query, k=req.k, mode=req.mode)]

    @app.post("/api/ask")
    def ask(req: AskRequest) -> dict:  # type: ignore[valid-type]
        assistant = service.assistant
        return reply_json(assistant, assistant.ask(req.question, req.history))

    @app.post("/api/feedback")
    def feedback(req: FeedbackRequest) -> dict:  # type: ignore[valid-type]
        return service.feedback(req.question, req.answer, req.sources, req.verdict, req.history)

    # Taken from the routes above, so the list can't fall behind them.
    endpoints = {r.path: ", ".join(sorted(r.methods)) for r in app.routes
                 if getattr(r, "methods", None) and r.path.startswith("/api/")}

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def elsewhere(request: Request):
        # Last route: whatever the ones above did not take, said in the API's own words rather
        # than falling through to the page's "Not Found".
        path, known = request.url.path.rstrip("/"), ", ".join(f"{m} {p}" for p, m in endpoints.items())
        status = 405 if path in endpoints else 404
        return JSONResponse(status_code=status,
                            content={"error": f"{request.method} {path} is not an endpoint; the API has {known}"})

    return app


def _error_handlers(app) -> None:
    """Every refusal as JSON ``{"error": ...}``: the body's fields, our errors, Starlette's."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # The offending input is not echoed: it may be huge, or NaN, which JSON cannot carry.
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: "
                    f"{e.get('msg', 'invalid')}" for e in exc.errors()]
        return JSONResponse(status_code=422, content={"error": "invalid request", "detail": problems})

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        # Starlette's own refusals (a body it cannot parse, an unknown path, a wrong method) in
        # the same {"error": ...} shape as ours, so a client reads every 4xx one way.
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)},
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(QAError)
    async def _qa_error(request: Request, exc: QAError):
        return JSONResponse(status_code=400, content={"error": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"error": "internal error; see server log"})
