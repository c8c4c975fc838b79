"""Gradio web UI and HTTP API in one server: ``qa serve`` or ``make run``.

Everything shown comes from ``qa``'s public API; every piece of document or user text is
HTML-escaped before it reaches the page, and only our own ``<mark>`` tags are added.
"""
from __future__ import annotations

import html
import logging
from pathlib import Path

import gradio as gr

from qa.errors import QAError
from qa.highlight import mark_html, term_spans
from qa.http_api import create_api
from qa.ui_api import (
    ask_handler, delete_handler, document_handler, documents_handler, earlier_questions, feedback_api,
    like_handler, search_handler, text_history,
)
from qa.service import Service
from qa.ui_assets import CSS, HEAD, SHOW_ANSWER, SHOW_MARK

log = logging.getLogger(__name__)

EXAMPLES = [
    "Who founded 01.AI?",
    "When did the interim regulation take effect?",
    "What is ThreatBook's LLM called?",
    "How many users has Ernie Bot garnered?",
]
# Confidence at or above HIGH reads "high"; within MEDIUM_MARGIN of the abstention threshold it
# reads "low", as such answers are nearly withheld.
HIGH = 0.75
MEDIUM_MARGIN = 0.15


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def uploaded_by_page(path: Path) -> bool:
    """Whether a file lies in Gradio's upload folder, i.e. came through the page's upload."""
    from gradio.utils import get_upload_folder, is_in_or_equal

    try:
        return path.is_file() and is_in_or_equal(path.resolve(), Path(get_upload_folder()).resolve())
    except (OSError, ValueError):
        return False


def render_reply(service: Service, reply) -> str:
    """The chat message for a reply, as escaped HTML."""
    docs = service.retriever.documents
    if reply.message is not None:
        return f'<div class="qa-message">{_e(reply.message)}</div>'.replace("\n", "<br>")
    searched = ""
    if reply.query != reply.question or reply.context:
        extra = f" <span class='qa-context'>(with: {_e(' '.join(reply.context))})</span>" if reply.context else ""
        if reply.corrections:
            fixed = ", ".join(f"{c.original} → {c.corrected}" for c in reply.corrections)
            extra += f" <span class='qa-corrected'>(spelling corrected: {_e(fixed)})</span>"
        searched = f'<div class="qa-meta qa-searched">searched for: {_e(reply.query)}{extra}</div>'
    a = reply.answer
    if a is None:
        return (
            f'<div class="qa-notfound">Not found in the corpus.</div>'
            f'<div class="qa-meta">The closest passages are shown under Sources.</div>{searched}'
        )
    sentence = a.sentence
    marks = []
    if a.sentence_span is not None:
        marks = [a.span.shift(-a.sentence_span.start)]
    cites = "".join(
        f"<li>{_e(docs[d].citation())} <span class='qa-meta'>[{_e(d)}]</span>"
        f"{open_button(d, a.span.start, a.span.end) if d == a.doc_id else ''}</li>"
        for d in a.sources
    )
    return (
        f'<div class="qa-answer"><strong>{_e(a.text)}</strong> '
        f'{confidence_badge(a.score, service.threshold())}</div>'
        f'<blockquote class="qa-sentence">{mark_html(sentence, marks)}</blockquote>'
        f'<div class="qa-meta">Sources ({len(a.sources)}):</div><ol class="qa-cites">{cites}</ol>'
        f"{other_answers(service, reply)}{searched}"
    )


def confidence_level(score: float, threshold: float) -> str:
    if score >= max(HIGH, threshold):
        return "high"
    return "medium" if score >= threshold + MEDIUM_MARGIN else "low"


def confidence_badge(score: float, threshold: float) -> str:
    """A labelled, coloured confidence with a tooltip that says what it means."""
    level = confidence_level(score, threshold)
    tip = (f"How sure the reader is that this span answers the question, from 0 to 1. Answers "
           f"under {threshold:.2f} are withheld; 'low' means close to that line.")
    return (f'<span class="qa-conf qa-conf-{level}" title="{_e(tip)}">{level} confidence</span> '
            f'<span class="qa-meta">{score:.2f}</span>')


def other_answers(service: Service, reply) -> str:
    """Runner-up answers close to the best one, each with its source."""
    a, docs = reply.answer, service.retriever.documents
    close = [o for o in reply.alternatives if o.score >= max(service.threshold(), 0.5 * a.score)][:2]
    if not close:
        return ""
    items = "".join(f"<li>{_e(o.text)} <span class='qa-meta'>({_e(docs[o.doc_id].citation())}, "
                    f"{o.score:.2f})</span></li>" for o in close)
    return f'<div class="qa-meta qa-others">Other possible answers:</div><ul class="qa-others">{items}</ul>'


def render_corpus(service: Service) -> str:
    """What the page knows, shown before any question: each document's citation."""
    docs = service.documents()
    items = "".join(f"<li>{_e(d['citation'])}</li>" for d in docs[:30])
    more = f"<li>… and {len(docs) - 30} more</li>" if len(docs) > 30 else ""
    return (f"<div class='qa-corpus'><p><strong>This corpus holds {len(docs)} document"
            f"{'s' if len(docs) != 1 else ''}:</strong></p><ul>{items}{more}</ul>"
            "<p class='qa-meta'>Ask a question to see its sources here.</p></div>")


def render_sources(service: Service, reply) -> str:
    """The sources panel: top passages with the answer and query terms highlighted."""
    if reply is None:
        return render_corpus(service)
    parts = []
    if reply.message is not None and not reply.passages:
        return render_corpus(service)  # small talk searched nothing: keep the corpus overview
    if reply.message is not None:
        parts.append("<p class='qa-meta'>Passages that mention it most:</p>")
    elif reply.answer is None:
        parts.append("<p class='qa-notfound'>Not found in the corpus — closest passages:</p>")
    for i, p in enumerate(reply.passages, start=1):
        body = mark_html(p.text, p.highlights, term_spans(p.text, reply.search_text))
        doc = service.retriever.documents.get(p.doc_id)
        cite = doc.citation() if doc is not None else p.title
        at = (p.start + p.highlights[0].start, p.start + p.highlights[0].end) if p.highlights else (p.start, p.end)
        parts.append(
            f'<div class="qa-passage"><div class="qa-cite">{i}. {_e(cite)} {open_button(p.doc_id, *at)}</div>'
            f"<div>{body}</div><div class='qa-meta'>score {p.score:.3f} · {_e(p.doc_id)} · "
            f"characters {p.start}–{p.end}</div></div>"
        )
    return "".join(parts)


def open_button(doc_id: str, start: int, end: int, label: str = "open") -> str:
    """A keyboard-reachable link that opens a document in the viewer at [start, end)."""
    from urllib.parse import quote

    return (f'<a class="qa-open" role="button" href="#open:{_e(quote(doc_id, safe=""))}:{int(start)}:{int(end)}" '
            f'title="Open the whole document here">{_e(label)}</a>')


def render_document(service: Service, request: str) -> str:
    """The viewer: a whole document with one span marked (``request`` is the page's JSON)."""
    import json

    try:
        req = json.loads(request or "{}")
        doc = service.retriever.documents[str(req["doc"])]
        start, end = int(req["start"]), int(req["end"])
    except (ValueError, KeyError, TypeError):
        return "<p class='qa-meta'>That document is no longer in the corpus.</p>"
    start, end = max(0, min(start, len(doc.text))), max(0, min(end, len(doc.text)))
    text = doc.text
    body = (f"{_e(text[:start])}<mark class='answer' id='viewer-mark'>{_e(text[start:end])}</mark>"
            f"{_e(text[end:])}")
    return (f"<div class='qa-cite'>{_e(doc.citation())}</div><div class='qa-meta'>{_e(doc.doc_id)} · "
            f"characters {start}–{end} of {len(text)}</div><div class='qa-doc' tabindex='0'>{body}</div>")


def render_documents(service: Service) -> str:
    rows = "".join(
        f"<tr><td>{_e(d['doc_id'])}</td><td>{_e(d['citation'])}</td><td>{d['chars']}</td>"
        f"<td>{'uploaded' if d['uploaded'] else 'seed'}</td></tr>"
        for d in service.documents()
    )
    # Files of the corpus folder that are not indexed, and why (unreadable, empty, a README.md):
    # a user who points the app at a folder should see here what it left out, not only in a log.
    skipped = "".join(f"<li>{_e(f.name)}: {_e(f.reason)}</li>" for f in service.skipped)
    return (
        "<table class='qa-docs'><thead><tr><th>id</th><th>document</th><th>chars</th>"
        f"<th>origin</th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<p>Not indexed:</p><ul class='qa-skipped'>{skipped}</ul>" if skipped else "")
    )


def chat_handler(service: Service):
    """The page's ask event. The conversation is the chat the page sends: nothing is kept per
    session, so clearing the chat in any way clears the context."""

    def respond(message, history, mode_, k_, fusion_):
        earlier = earlier_questions(history)
        history = text_history(history)
        message = (message or "").strip()
        if not message:
            return history, gr.update(), ""
        history.append({"role": "user", "content": _e(message)})
        try:
            reply = service.assistant.ask(message, earlier, k=int(k_), mode=mode_, fusion=fusion_)
        except QAError as exc:
            history.append({"role": "assistant", "content": f"⚠ {_e(exc)}"})
            return history, gr.update(), ""
        history.append({"role": "assistant", "content": render_reply(service, reply)})
        return history, render_sources(service, reply), ""

    return respond


def upload_handler(service: Service):
    """The upload event: only files that came through the page's upload are indexed."""

    def add_files(files, progress=gr.Progress()):
        messages = []
        for f in progress.tqdm(files or [], desc="Indexing"):
            path = Path(getattr(f, "name", f))
            original = Path(getattr(f, "orig_name", None) or path.name).name
            if not uploaded_by_page(path):
                messages.append(f"✗ **{_e(original)}** refused: only files uploaded through "
                                "this page can be added")
                continue
            try:
                doc_id = service.add_file(path, original)
                messages.append(f"✓ **{_e(original)}** indexed as `{_e(doc_id)}`")
            except (QAError, OSError) as exc:
                messages.append(f"✗ **{_e(original)}** refused: {_e(exc)}")
        return "\n\n".join(messages), render_documents(service), None

    return add_files


def upload_api(service: Service):
    def upload(path: str | None) -> dict:
        """Index one file uploaded with ``handle_file``; returns its id and the documents."""
        if not path or not uploaded_by_page(Path(path)):
            raise gr.Error("send the file with gradio_client.handle_file(...); only uploaded files are indexed")
        try:
            doc_id = service.add_file(path, Path(path).name)
        except (QAError, OSError) as exc:
            raise gr.Error(str(exc)) from None
        return {"doc_id": doc_id, "documents": service.documents()}

    return upload


def corpus_panel(service: Service) -> None:
    """The Corpus accordion: upload, the document list (refreshed on every open page), and a
    reset that asks first. Built inside the page's Blocks."""
    with gr.Accordion("Corpus", open=False):
        upload = gr.File(label="Add documents (.txt, .md, .html, .pdf)", file_count="multiple",
                         elem_id="upload")
        status = gr.Markdown(elem_id="upload-status")
        docs = gr.HTML(render_documents(service), elem_id="documents")
        reset = gr.Button("Reset to the seed corpus", size="sm", elem_id="reset")
        with gr.Row(visible=False, elem_id="reset-confirm") as confirm_row:
            gr.Markdown("Remove every uploaded document and go back to the seed corpus?")
            confirm = gr.Button("Yes, reset", size="sm", variant="stop", elem_id="reset-yes")
            cancel = gr.Button("Cancel", size="sm", elem_id="reset-no")
        # Every open page shows uploads and deletions made from any other page.
        refresh = gr.Timer(5)
    upload.upload(upload_handler(service), upload, [status, docs, upload], api_name=False,
                  show_progress_on=[status])  # one progress bar, not one per output
    refresh.tick(lambda: render_documents(service), None, docs, api_name=False, show_progress="hidden")

    def do_reset():
        service.reset()
        return "Corpus reset to the seed documents.", render_documents(service)

    # gradio_client's /upload: a file sent with handle_file(), indexed like a page upload.
    with gr.Row(visible=False):
        api_file, api_out = gr.File(file_count="single"), gr.JSON()
    gr.Button(visible=False).click(upload_api(service), api_file, api_out, api_name="upload")
    reset.click(lambda: gr.update(visible=True), None, confirm_row, api_name=False)
    cancel.click(lambda: gr.update(visible=False), None, confirm_row, api_name=False)
    confirm.click(do_reset, None, [status, docs], api_name=False).then(
        lambda: gr.update(visible=False), None, confirm_row, api_name=False)


def build_ui(service: Service) -> gr.Blocks:
    with gr.Blocks(title="Corpus QA") as demo:
        gr.Markdown(
            "## Ask the corpus\nAnswers are exact spans from the documents, highlighted where "
            "they were found. Follow-up questions are understood in context."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, elem_id="chat", autoscroll=False)
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question…", show_label=False, scale=5,
                        elem_id="question", max_lines=3,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                clear = gr.Button("New conversation", size="sm")
                examples = gr.Examples(EXAMPLES, inputs=box, label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render_sources(service, None), elem_id="sources")
                gr.Markdown("### Document")
                viewer = gr.HTML("<p class='qa-meta'>Open a source to read the whole document here, "
                                 "with the answer highlighted.</p>", elem_id="viewer")
                open_doc = gr.Textbox(elem_id="open-doc", show_label=False, container=False)
        with gr.Accordion("Settings", open=False):
            with gr.Row():
                mode = gr.Radio(["hybrid", "bm25", "dense"], value="hybrid", label="Retrieval")
                fusion = gr.Radio(["weighted", "rrf"], value="weighted", label="Fusion")
                k = gr.Slider(1, 10, value=5, step=1, label="Passages")
        corpus_panel(service)

        respond = chat_handler(service)
        inputs = [box, chat, mode, k, fusion]
        outputs = [chat, sources, box]
        send.click(respond, inputs, outputs, api_name="chat").then(None, js=SHOW_ANSWER)
        open_doc.change(lambda r: render_document(service, r), open_doc, viewer, api_name=False
                       ).then(None, js=SHOW_MARK)

        gr.api(ask_handler(service), api_name="ask")
        gr.api(search_handler(service), api_name="search")
        gr.api(documents_handler(service), api_name="documents")
        gr.api(document_handler(service), api_name="document")
        gr.api(delete_handler(service), api_name="delete")
        gr.api(feedback_api(service), api_name="feedback")
        chat.like(like_handler(service), [chat], None, api_name=False)
        box.submit(respond, inputs, outputs, api_name=False).then(None, js=SHOW_ANSWER)
        # An example question is asked when clicked, not only put in the box.
        examples.load_input_event.then(respond, inputs, outputs, api_name=False).then(None, js=SHOW_ANSWER)
        clear.click(lambda: ([], render_sources(service, None)), None,
                    [chat, sources], api_name=False)
        chat.clear(lambda: render_sources(service, None), None, [sources], api_name=False)

    demo.queue(default_concurrency_limit=8)
    return demo


def create_app(service: Service):
    """The FastAPI app: HTTP API under /api, the Gradio UI at /."""
    from qa.service import MAX_UPLOAD_BYTES, BodyLimit, LoadShedder, SecurityHeaders

    app = create_api(service)
    app.add_middleware(BodyLimit)
    app.add_middleware(LoadShedder)
    app.add_middleware(SecurityHeaders)
    demo = build_ui(service)
    app = gr.mount_gradio_app(app, demo, path="/", css=CSS, head=HEAD, max_file_size=MAX_UPLOAD_BYTES)
    # Gradio checks that a file named in an event's input was uploaded by a user, and that a
    # file in its output lies in an allowed folder, but only for an app that "launched"
    # (processing_utils._check_allowed returns early otherwise); a mounted app never does.
    # Mark it launched so those checks run.
    demo.has_launched = True
    return app


def serve(host: str = "127.0.0.1", port: int = 7860, corpus=None, index=None,
          reader_config=None, retriever_config=None) -> None:
    import time

    import uvicorn

    t0 = time.perf_counter()
    service = Service(corpus, index, reader_config, retriever_config)
    app = create_app(service)
    print(f"ready in {time.perf_counter() - t0:.1f} s: http://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    serve()
