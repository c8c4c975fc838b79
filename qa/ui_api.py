"""The page's conversation helpers and the named Gradio endpoints for ``gradio_client`` users
(``/ask``, ``/search``, ``/documents``, ``/delete``, ``/feedback``) and the chat's 👍/👎."""
from __future__ import annotations

import html

import gradio as gr

from qa.errors import QAError
from qa.service import Service

# Earlier user questions that give a follow-up its context (each is read again to learn what
# it was about, so more would cost more per question).
CONTEXT_TURNS = 5


def text_history(history) -> list[dict[str, str]]:
    """The chat history reduced to its text: ``[{"role", "content": str}]``.

    The history comes from the caller and is echoed back to the page, so a file or component
    part in it is dropped here: echoed, Gradio would copy the file it names into its cache and
    serve it, which let anyone read any file on the server. Accepts Gradio's normalised form
    (content as a list of parts) and the simple ``{"role", "content": str}`` form.
    """
    out: list[dict[str, str]] = []
    for message in history or []:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        texts = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
        if texts:
            out.append({"role": message["role"], "content": "".join(texts)})
    return out


def earlier_questions(history) -> list[str]:
    """The user turns of a chat history (text only, as the page escaped them), the last
    ``CONTEXT_TURNS``: the context a follow-up is read in."""
    users = [html.unescape(m["content"]) for m in text_history(history) if m["role"] == "user"]
    return users[-CONTEXT_TURNS:]


def ask_handler(service: Service):
    """The ``/ask`` endpoint for gradio_client users: JSON in and out, history included."""

    def ask(question: str, history: list[dict] | None = None, k: int = 5,
            mode: str = "hybrid") -> dict:
        """Answer a question as JSON (``qa ask --json``), in the conversation ``history``:
        ``[{"role": "user" | "assistant", "content": str}, ...]``, oldest first. The reply
        carries the history with this turn added, to send back with the next question."""
        from qa.presentation import reply_json

        try:
            reply = service.assistant.ask(question, earlier_questions(history), k=int(k), mode=mode)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        said = reply.message or (reply.answer.text if reply.answer else "Not found in the corpus.")
        out = reply_json(service.assistant, reply)
        out["history"] = [*text_history(history), {"role": "user", "content": question},
                          {"role": "assistant", "content": said}]
        return out

    return ask


def search_handler(service: Service):
    def search(query: str, k: int = 5, mode: str = "hybrid") -> list[dict]:
        """The top passages for a query, as ``qa search --json``."""
        from qa.presentation import hit_json

        try:
            return [hit_json(service.retriever, h) for h in service.retriever.search(query, k=int(k), mode=mode)]
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    return search


def documents_handler(service: Service):
    def documents() -> list[dict]:
        """The indexed documents: id, title, citation, size, and whether uploaded."""
        return service.documents()

    return documents


def document_handler(service: Service):
    def document(doc_id: str) -> dict:
        """One whole document as the viewer shows it: id, title, citation and cleaned text
        (answer offsets index into this text)."""
        doc = service.retriever.documents.get(doc_id)
        if doc is None:
            raise gr.Error(f"no document {doc_id!r}; /documents lists them")
        return {"doc_id": doc.doc_id, "title": doc.title, "citation": doc.citation(), "text": doc.text}

    return document


def delete_handler(service: Service):
    def delete(doc_id: str) -> list[dict]:
        """Remove one uploaded document (``upload:<file name>``); returns the documents left."""
        try:
            service.delete(doc_id)
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        return service.documents()

    return delete


def like_handler(service: Service):
    """👍/👎 on an answer in the chat: the question is asked again in its conversation (the page
    keeps no state) and the verdict stored with that answer and its sources."""

    def on_like(history, data: gr.LikeData):
        messages = text_history(history)
        i = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        if not isinstance(i, int) or not 0 <= i < len(messages) or messages[i]["role"] != "assistant":
            return
        asked = earlier_questions(messages[:i])
        if not asked:
            return
        try:
            reply = service.assistant.ask(asked[-1], asked[:-1])
            a = reply.answer
            service.feedback(asked[-1], a.text if a else None, list(a.sources) if a else [],
                             "up" if data.liked else "down", asked[:-1])
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        gr.Info("Thank you: your feedback was saved.")

    return on_like


def feedback_api(service: Service):
    def feedback(question: str, answer: str | None, sources: list[str], verdict: str,
                 history: list[str] | None = None) -> dict:
        """Record 👍 (``verdict="up"``) or 👎 (``"down"``) on an answer; returns the stored row."""
        try:
            return service.feedback(question, answer, sources, verdict, history)
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    return feedback
