"""JSON forms of hits and replies, shared by the CLI (``--json``) and the HTTP API."""
from __future__ import annotations


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


def reply_json(assistant, reply) -> dict:
    """A reply as ``qa ask --json`` and the HTTP API print it."""
    docs = assistant.retriever.documents
    a = reply.answer
    return {
        "question": reply.question,
        "query": reply.query,
        "context": list(reply.context),
        "answer": a.text if a else None,
        "score": a.score if a else None,
        "doc_id": a.doc_id if a else None,
        "start": a.span.start if a else None,
        "end": a.span.end if a else None,
        "sentence": a.sentence if a else None,
        "sources": list(a.sources) if a else [],
        "citations": [docs[d].citation() for d in (a.sources if a else ())],
        "passages": [
            {
                "doc_id": p.doc_id,
                "title": p.title,
                "text": p.text,
                "start": p.start,
                "end": p.end,
                "score": p.score,
                "highlights": [[s.start, s.end] for s in p.highlights],
            }
            for p in reply.passages
        ],
        "retrieval_ms": reply.retrieval_ms,
        "reading_ms": reply.reading_ms,
        "message": reply.message,
    }
