"""The page's events accept no server path: the exact attacks of the security audit (issue 9).

Each test speaks Gradio's wire protocol directly (``/gradio_api/queue/join`` then the event
stream), as an attacker would, against the real app on the seed corpus.
"""
from __future__ import annotations

import json
import shutil
import uuid

import pytest

pytest.importorskip("gradio")

from fastapi.testclient import TestClient  # noqa: E402

from tests.conftest import BAD_FILES, SEEDS, index_digest  # noqa: E402
from tests.test_bad_inputs import QUESTIONS  # noqa: E402

SECRET = "TOPSECRET-not-for-the-web"


@pytest.fixture(scope="module")
def app_and_service(tmp_path_factory, encoder):
    import ui
    from qa.service import Service

    root = tmp_path_factory.mktemp("sec")
    shutil.copytree(SEEDS, root / "seeds")
    service = Service(corpus=root / "seeds", index=root / "index")
    return ui.create_app(service), service


@pytest.fixture(scope="module")
def client(app_and_service):
    with TestClient(app_and_service[0]) as c:  # the lifespan starts Gradio's queue
        yield c


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "private" / "notes.txt"
    path.parent.mkdir()
    path.write_text(f"{SECRET}: the launch codes are 0000.", encoding="utf-8")
    return path


def fn_index(client, name: str) -> int:
    config = client.get("/config").json()
    for i, dep in enumerate(config["dependencies"]):
        if dep.get("api_name") == name or (name == "upload" and dep.get("targets") and
                                           any(t[1] == "upload" for t in dep["targets"])):
            return dep.get("id", i)
    raise AssertionError(f"no event {name!r}")


def call(client, fn: int, data: list) -> list[dict]:
    """Join the queue as a browser would and return every message of the event stream."""
    session = uuid.uuid4().hex
    r = client.post("/gradio_api/queue/join",
                    json={"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                          "trigger_id": None})
    assert r.status_code == 200, r.text
    messages = []
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                messages.append(msg)
                if msg.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return messages


def file_urls(obj) -> list[str]:
    found = []
    if isinstance(obj, dict):
        if isinstance(obj.get("url"), str):
            found.append(obj["url"])
        for v in obj.values():
            found += file_urls(v)
    elif isinstance(obj, list):
        for v in obj:
            found += file_urls(v)
    return found


def test_chat_history_with_a_server_path_leaks_nothing(client, secret_file):
    history = [
        {"role": "user", "content": [{"type": "file", "file": {
            "path": str(secret_file), "meta": {"_type": "gradio.FileData"}}}]},
    ]
    messages = call(client, fn_index(client, "chat"), ["Who founded 01.AI?", history, "hybrid", 5, "weighted"])
    body = json.dumps(messages)
    assert SECRET not in body
    for url in file_urls(messages):
        assert SECRET not in client.get(url).text


def test_upload_event_refuses_a_server_path(client, app_and_service, secret_file):
    service = app_and_service[1]
    before = {d["doc_id"] for d in service.documents()}
    upload = [{"path": str(secret_file), "orig_name": "notes.txt", "meta": {"_type": "gradio.FileData"}}]
    messages = call(client, fn_index(client, "upload"), [upload])
    assert {d["doc_id"] for d in service.documents()} == before
    hits = client.post("/api/search", json={"query": "launch codes", "k": 10}).json()
    assert all(SECRET not in h["text"] for h in hits)
    assert messages  # the event answered (an error or a refusal), it did not hang


def test_upload_api_refuses_a_server_path(client, app_and_service, secret_file):
    """gradio_client's /upload, spoken raw: a FileData naming a server file is not indexed
    (gradio_client itself would upload a local file first, which is a real upload)."""
    service = app_and_service[1]
    before = {d["doc_id"] for d in service.documents()}
    fn = next(dep.get("id", i) for i, dep in enumerate(client.get("/config").json()["dependencies"])
              if dep.get("api_name") == "upload")
    messages = call(client, fn, [{"path": str(secret_file), "orig_name": "notes.txt",
                                  "meta": {"_type": "gradio.FileData"}}])
    assert {d["doc_id"] for d in service.documents()} == before
    assert SECRET not in json.dumps(messages)
    assert any(m.get("msg") == "process_completed" and not m.get("success", True) for m in messages)


def test_text_history_keeps_only_text():
    import ui

    history = [
        {"role": "user", "content": [{"type": "text", "text": "Who founded 01.AI?"}]},
        {"role": "assistant", "content": "Kai-Fu Lee"},
        {"role": "user", "content": [{"type": "file", "file": {"path": "/etc/hostname"}}]},
        {"role": "system", "content": "ignored"},
        "not a message",
    ]
    assert ui.text_history(history) == [
        {"role": "user", "content": "Who founded 01.AI?"},
        {"role": "assistant", "content": "Kai-Fu Lee"},
    ]


def _result(messages):
    done = next(m for m in messages if m.get("msg") == "process_completed")
    assert done.get("success"), done
    return done["output"]["data"][0]


def test_the_api_takes_the_conversation_from_the_history_sent(client):
    """gradio_client's /ask: the simple {"role", "content": str} form, answered as JSON, and
    the caller's history (not hidden state) decides what a follow-up means."""
    ask = fn_index(client, "ask")
    history = [{"role": "user", "content": "Who founded Frontis.AI?"},
               {"role": "assistant", "content": "Zhou Bowen"}]
    out = _result(call(client, ask, ["In what year was it founded?", history, 5, "hybrid"]))
    assert out["query"] == "In what year was Frontis.AI founded?" and out["answer"] == "2021"
    assert out["history"][-2:] == [{"role": "user", "content": "In what year was it founded?"},
                                   {"role": "assistant", "content": "2021"}]
    out = _result(call(client, ask, ["In what year was it founded?", [], 5, "hybrid"]))
    assert out["answer"] is None and "Which one do you mean" in out["message"]


def test_the_page_event_takes_its_context_from_the_chat(client):
    chat = fn_index(client, "chat")
    history = [{"role": "user", "content": [{"type": "text", "text": "Who founded Frontis.AI?"}]},
               {"role": "assistant", "content": [{"type": "text", "text": "Zhou Bowen"}]}]
    data = _result(call(client, chat, ["In what year was it founded?", history, "hybrid", 5, "weighted"]))
    assert "2021" in json.dumps(data[-1])


def test_document_viewer_escapes_what_a_document_holds(app_and_service, tmp_path):
    import ui

    service = app_and_service[1]
    evil = tmp_path / "evil.txt"
    evil.write_text("Plain words, then <img src=x onerror=alert(1)> and <script>alert(2)</script> end.",
                    encoding="utf-8")
    doc_id = service.add_file(evil, "evil.txt")
    try:
        text = service.retriever.documents[doc_id].text
        start = text.index("then")
        html = ui.render_document(service, json.dumps({"doc": doc_id, "start": start, "end": start + 4}))
        assert "<img" not in html and "<script" not in html and "&lt;img" in html
        assert "<mark class='answer' id='viewer-mark'>then</mark>" in html
        link = ui.open_button('x" onclick="alert(1)', 0, 4)
        assert "onclick=" not in link.replace("%22%20onclick%3D%22", "")  # the id is URL-quoted
        assert ui.render_document(service, '{"doc": "nope", "start": 0, "end": 1}').startswith("<p")
        assert ui.render_document(service, "not json").startswith("<p")
    finally:
        service.delete(doc_id)


UPLOAD_ONLY = {  # refusals that only an upload meets, beside the shared odd files
    "large.txt": b"Tea. " * 1_100_000,  # over the 5 MB upload limit
    "program.exe": b"MZ\x90\x00",
    "no extension": b"plain words about pears",
    "../../escape.txt": b"A name that climbs out of the uploads folder, about plums.",
}
ACCEPTED = {"script.html": "upload:script.html", "odd name ’✓ (1).md": "upload:odd name ’✓ (1).md",
            "-dash.txt": "upload:-dash.txt", "../../escape.txt": "upload:escape.txt"}


@pytest.mark.parametrize("name", sorted({**BAD_FILES, **UPLOAD_ONLY}))
def test_uploads_of_odd_files_are_indexed_cleanly_or_refused_cleanly(client, app_and_service, name):
    """Each file goes through Gradio's real upload route, then the /upload event, as
    gradio_client sends it. A refusal names the file and leaves the saved index byte for byte
    as it was, with nothing left in the uploads folder; an accepted file is indexed safely."""
    service = app_and_service[1]
    before = index_digest(service.index)
    data = {**BAD_FILES, **UPLOAD_ONLY}[name]
    r = client.post("/gradio_api/upload", files=[("files", (name, data))])
    if name == "large.txt":  # refused by the HTTP layer as it arrives, before Gradio stores it
        assert r.status_code == 413 and "limit" in r.json()["error"]
        assert index_digest(service.index) == before
        return
    assert r.status_code == 200, r.text
    fn = next(dep.get("id", i) for i, dep in enumerate(client.get("/config").json()["dependencies"])
              if dep.get("api_name") == "upload")
    messages = call(client, fn, [{"path": r.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}])
    done = [m for m in messages if m.get("msg") == "process_completed"][-1]
    assert "Traceback" not in json.dumps(messages)
    if name not in ACCEPTED:
        assert not done["success"] and done["output"]["error"], done
        assert index_digest(service.index) == before
        assert not any(p.name.startswith(".staging") for p in service.uploads.glob("*"))
        return
    assert done["success"], done
    doc_id = ACCEPTED[name]
    assert done["output"]["data"][0]["doc_id"] == doc_id
    text = service.retriever.documents[doc_id].text
    assert "alert(1)" not in text and "<" not in text
    assert (service.uploads / doc_id.removeprefix("upload:")).is_file()  # never outside the folder
    service.delete(doc_id)
    assert doc_id not in service.retriever.documents


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_odd_questions_through_the_page_and_the_api_events(client, app_and_service, name):
    """The bad-question catalogue through Gradio's own events: an answer or a clean refusal
    (Gradio's error message), never a traceback, and nothing unescaped in the page."""
    service = app_and_service[1]
    before = index_digest(service.index)
    question = QUESTIONS[name]
    for fn, data in ((fn_index(client, "ask"), [question, [], 5, "hybrid"]),
                     (fn_index(client, "chat"), [question, [], "hybrid", 5, "weighted"])):
        messages = call(client, fn, data)
        body = json.dumps(messages)
        assert "Traceback" not in body
        if fn == fn_index(client, "chat"):  # the page's HTML; /ask returns JSON data, echoed as sent
            assert "<script" not in body.lower(), body
        done = [m for m in messages if m.get("msg") == "process_completed"][-1]
        assert done["success"] or done["output"]["error"], done
    assert index_digest(service.index) == before


def test_sources_panel_for_replies_that_are_messages(app_and_service):
    """A bare name shows its passages under a plain heading (not "Not found"); small talk
    searched nothing, so the panel keeps the corpus overview instead of an empty list."""
    import ui

    service = app_and_service[1]
    reply = service.assistant.ask("<b>Baidu</b>")
    panel = ui.render_sources(service, reply)
    assert "Passages that mention it most" in panel and "Not found" not in panel
    assert panel.count("qa-passage") == len(reply.passages) > 0
    assert "&lt;b&gt;" not in ui.render_reply(service, reply) and "<b>Baidu" not in ui.render_reply(service, reply)
    hello = service.assistant.ask("hello")
    assert ui.render_sources(service, hello) == ui.render_corpus(service)


def test_corpus_view_lists_the_files_left_out_escaped(tmp_path, encoder):
    import ui
    from qa.service import Service

    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "seeds" / "<img src=x onerror=alert(1)>.txt").write_bytes(b"")
    (tmp_path / "seeds" / "README.md").write_text("# About these articles", encoding="utf-8")
    page = ui.render_documents(Service(corpus=tmp_path / "seeds", index=tmp_path / "index"))
    assert "Not indexed:" in page and "README.md: a folder&#x27;s README.md describes" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page and "<img" not in page
    plain = ui.render_documents(Service(corpus=SEEDS, index=tmp_path / "index2"))
    assert "Not indexed" not in plain and plain.count("<tr>") == 6  # header and 5 seeds
