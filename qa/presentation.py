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
        "corrections": [[c.original, c.corrected] for c in reply.corrections],
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


def reply_lines(assistant, reply, explain: bool = False) -> list[str]:
    """A reply as ``qa ask`` and ``qa chat`` print it; with ``explain``, the competing
    candidates (withheld ones too) and the terms that ranked them."""
    from qa.highlight import mark_text

    if reply.message is not None:
        # A name asked about nothing gets its passages; small talk gets none.
        return [reply.message] + [f"  - {p.title}: {' '.join(p.text.split())[:200]}" for p in reply.passages[:3]]
    out = []
    if reply.query != reply.question or reply.context:
        with_ = f" (with: {' '.join(reply.context)})" if reply.context else ""
        fixed = ", ".join(f"{c.original} → {c.corrected}" for c in reply.corrections)
        out.append(f"(searched for: {reply.query}{with_}{f'; corrected {fixed}' if fixed else ''})")
    a = reply.answer
    if a is None:
        out.append("Not found in the corpus. Closest passages:")
        out += [f"  - {p.title}: {' '.join(p.text.split())[:200]}" for p in reply.passages[:3]]
    else:
        out.append(f"Answer: {a.text}   (confidence {a.score:.2f})")
        if a.sentence_span is not None:
            rel = a.span.shift(-a.sentence_span.start)
            out.append("  " + " ".join(mark_text(a.sentence, [rel]).split()))
        out += [f"  source: {assistant.retriever.documents[d].citation()} [{d}]" for d in a.sources]
    return out + (explanation_lines(assistant, reply) if explain else [])


def explanation_lines(assistant, reply) -> list[str]:
    limit = assistant.config.abstain_threshold
    limit = assistant.reader.default_threshold if limit is None else limit
    cands = [c for c in (reply.answer, *reply.alternatives) if c is not None][:3]
    out = [f"candidates ({assistant.reader.name} reader; answers need confidence >= {limit:.3f}):"]
    if not cands:
        out.append("  (no candidate span: no retrieved sentence covers the question)")
    for n, cand in enumerate(cands, 1):
        shown = "answer" if cand is reply.answer else "withheld" if cand.score < limit else "runner-up"
        out.append(f"{n}. {cand.text!r}  confidence {cand.score:.3f}  [{shown}]  "
                   f"{assistant.retriever.documents[cand.doc_id].title}")
        why = cand.explanation.lines() if cand.explanation else ["(this reader gives no explanation)"]
        out += ["   " + line for line in why]
    return out
