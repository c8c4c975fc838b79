"""The HTTP API against the real app (seed corpus, real models)."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("gradio")

from fastapi.testclient import TestClient  # noqa: E402

from tests.conftest import SEEDS  # noqa: E402


@pytest.fixture(scope="module")
def service(tmp_path_factory, encoder):
    from qa.service import Service

    root = tmp_path_factory.mktemp("svc")
    corpus = root / "seeds"
    shutil.copytree(SEEDS, corpus)
    return Service(corpus=corpus, index=root / "index")


@pytest.fixture(scope="module")
def client(service):
    import ui

    return TestClient(ui.create_app(service))


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] == 5


def test_search(client):
    hits = client.post("/api/search", json={"query": "Who founded 01.AI?", "k": 3}).json()
    assert len(hits) == 3 and hits[0]["doc_id"] == "000_efa03a2983bcb19c"
    assert {"lexical_score", "dense_score", "rank", "start", "end"} <= set(hits[0])


def test_ask_with_history(client):
    body = client.post(
        "/api/ask",
        json={"question": "In what year was it founded?", "history": ["Who founded Frontis.AI?"]},
    ).json()
    assert body["query"] == "In what year was Frontis.AI founded?"
    assert body["answer"] == "2021"
    p = body["passages"][0]
    assert any(p["text"][a:b] == "2021" for a, b in p["highlights"])


def test_ask_abstains(client):
    body = client.post("/api/ask", json={"question": "What is the capital of France?"}).json()
    assert body["answer"] is None and body["passages"]


@pytest.mark.parametrize(
    "path, payload",
    [
        ("/api/search", {"query": ""}),
        ("/api/search", {"query": "AI", "k": 0}),
        ("/api/search", {"query": "AI", "mode": "fuzzy"}),
        ("/api/search", {"k": 3}),
        ("/api/ask", {"question": "   "}),
        ("/api/ask", {"question": "x" * 5000}),
        ("/api/ask", {"question": "When?", "history": "not a list"}),
    ],
)
def test_bad_requests_are_4xx_json(client, path, payload):
    r = client.post(path, json=payload)
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/json")
    assert "Traceback" not in r.text


def test_malformed_json(client):
    r = client.post("/api/ask", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_ui_page_is_served(client):
    r = client.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_upload_refuses_bad_files_and_keeps_index(service, tmp_path):
    from qa.errors import CorpusError

    before = set(service.retriever.documents)
    bad = tmp_path / "evil.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(CorpusError, match="unsupported"):
        service.add_file(bad)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError):
        service.add_file(broken)
    assert set(service.retriever.documents) == before


def test_upload_then_reset(service, tmp_path):
    from qa.retriever import Retriever

    doc = tmp_path / "kiwi.html"
    doc.write_text(
        "<html><body><article><p>The kiwi is a flightless bird native to New Zealand. "
        "The kiwi lays the largest egg relative to its body size of any bird.</p>"
        "</article></body></html>"
    )
    assert service.add_file(doc) == "upload:kiwi.html"
    reply = service.assistant.ask("Where is the kiwi bird native to?")
    assert reply.answer is not None and "New Zealand" in reply.answer.text
    assert "upload:kiwi.html" in Retriever.load(service.index, encoder=service.retriever.encoder).documents
    service.reset()
    assert "upload:kiwi.html" not in service.retriever.documents
    assert "upload:kiwi.html" not in Retriever.load(service.index, encoder=service.retriever.encoder).documents


@pytest.mark.parametrize("body", [
    b'{"query": "x", "k": NaN}', b'{"query": "x", "k": Infinity}', b'{"query": NaN}',
    b'{"query": "x", "k": "5x"}', b'[1, 2', b'\xff\xfe', b'{"query": ["a"]}',
])
def test_malformed_search_bodies_get_a_json_4xx(client, body):
    r = client.post("/api/search", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert "error" in r.json()


def test_oversized_bodies_are_refused_before_parsing(client):
    big = b'{"question": "' + b"<b>x</b>" * 1_300_000 + b'"}'
    r = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["error"]

    def chunks():  # no content-length: counted as it arrives
        yield b'{"question": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}'

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("payload", [
    {"question": "x" * 9000},
    {"question": "Who?", "history": ["y" * 9000]},
    {"question": "Who?", "history": ["a"] * 21},
])
def test_over_long_questions_and_histories_are_refused(client, payload):
    r = client.post("/api/ask", json=payload)
    assert r.status_code == 422 and r.json()["detail"]


def test_security_headers(client):
    page = client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    api = client.get("/api/health")
    assert api.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def fresh_service(tmp_path, encoder):
    from qa.service import Service

    shutil.copytree(SEEDS, tmp_path / "seeds")
    return Service(corpus=tmp_path / "seeds", index=tmp_path / "index")


def test_upload_named_like_a_seed_does_not_replace_it(fresh_service, tmp_path):
    seed_id = "000_efa03a2983bcb19c"
    before = fresh_service.retriever.documents[seed_id].text
    fake = tmp_path / f"{seed_id}.txt"
    fake.write_text("Xiaomi Corp founded 01.AI, says this forged file.", encoding="utf-8")
    doc_id = fresh_service.add_file(fake, fake.name)
    assert doc_id == f"upload:{seed_id}.txt"
    assert fresh_service.retriever.documents[seed_id].text == before
    assert len(fresh_service.retriever.documents) == 6


def test_uploads_sharing_a_stem_both_survive_a_restart(fresh_service, tmp_path):
    from qa.service import Service

    for name in ("notes.txt", "notes.md"):
        f = tmp_path / name
        f.write_text(f"These are the {name} notes about llamas.", encoding="utf-8")
        fresh_service.add_file(f, name)
    again = Service(corpus=fresh_service.corpus, index=fresh_service.index)
    ids = {d["doc_id"] for d in again.documents() if d["uploaded"]}
    assert ids == {"upload:notes.txt", "upload:notes.md"}


def test_concurrent_uploads_of_one_name_agree_with_the_saved_index(fresh_service, tmp_path):
    import threading

    from qa.retriever import Retriever

    files = []
    for i in range(2):
        f = tmp_path / f"v{i}" / "same.txt"
        f.parent.mkdir()
        f.write_text(f"Version {i} of the same upload mentions alpacas number {i}.", encoding="utf-8")
        files.append(f)
    threads = [threading.Thread(target=fresh_service.add_file, args=(f, "same.txt")) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    live = fresh_service.retriever.documents["upload:same.txt"].text
    saved = Retriever.load(fresh_service.index).documents["upload:same.txt"].text
    on_disk = (fresh_service.uploads / "same.txt").read_text(encoding="utf-8")
    assert live == saved == on_disk
    assert not list(fresh_service.uploads.glob(".staging-*"))


def test_a_bad_corpus_file_is_skipped_and_reported(tmp_path, encoder):
    import ui
    from qa.service import Service

    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "seeds" / "empty.txt").write_bytes(b"")
    (tmp_path / "seeds" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    service = Service(corpus=tmp_path / "seeds", index=tmp_path / "index")
    assert len(service.retriever.documents) == 5
    health = TestClient(ui.create_app(service)).get("/api/health").json()
    assert {f["name"] for f in health["skipped_files"]} == {"empty.txt", "broken.pdf"}


def test_overload_gets_503_with_retry_after_not_an_unbounded_queue():
    import asyncio

    import httpx

    from qa.service import LoadShedder

    async def slow(scope, receive, send):
        await asyncio.sleep(0.3)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = LoadShedder(slow, active=1, waiting=1)

    async def burst():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await asyncio.gather(*(c.post("/api/ask") for _ in range(4)), c.get("/other"))

    *api, other = asyncio.run(burst())
    codes = sorted(r.status_code for r in api)
    assert codes == [200, 200, 503, 503]  # one running, one waiting, the rest turned away
    busy = next(r for r in api if r.status_code == 503)
    assert busy.headers["retry-after"] == "1" and "busy" in busy.json()["error"]
    assert other.status_code == 200  # the page is never shed
    assert app.waiting == 0


def test_delete_one_upload_and_clean_upload_errors(fresh_service, tmp_path):
    from qa.errors import CorpusError, InputError
    from qa.retriever import Retriever

    for name, text in (("tea.md", "# Green tea\n\nGreen tea comes from Camellia sinensis leaves."),
                       ("coffee.txt", "Coffee beans are roasted seeds of Coffea plants.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        fresh_service.add_file(tmp_path / name, name)
    assert fresh_service.retriever.documents["upload:tea.md"].title == "Green tea"  # no "# "
    fresh_service.delete("upload:tea.md")
    assert "upload:tea.md" not in fresh_service.retriever.documents
    assert "upload:coffee.txt" in fresh_service.retriever.documents
    saved = Retriever.load(fresh_service.index, encoder=fresh_service.retriever.encoder)
    assert "upload:tea.md" not in saved.documents and not (fresh_service.uploads / "tea.md").exists()
    with pytest.raises(InputError, match="upload:coffee.txt"):
        fresh_service.delete("000_efa03a2983bcb19c")  # a corpus document is not deleted here
    (tmp_path / "empty.txt").write_text("   \n")
    with pytest.raises(CorpusError) as err:
        fresh_service.add_file(tmp_path / "empty.txt", "empty.txt")
    assert "empty" in str(err.value) and "staging" not in str(err.value)


def test_restart_after_the_last_upload_went_and_with_an_uploaded_readme(fresh_service, tmp_path):
    from qa.errors import CorpusError
    from qa.service import Service

    notes = tmp_path / "notes.txt"
    notes.write_text("Llamas hum to their young.", encoding="utf-8")
    fresh_service.add_file(notes, notes.name)
    fresh_service.delete("upload:notes.txt")
    (tmp_path / "blank.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(CorpusError):
        fresh_service.add_file(tmp_path / "blank.txt", "blank.txt")
    # The uploads folder is now empty: a restart starts without uploads (it used to refuse).
    again = Service(corpus=fresh_service.corpus, index=fresh_service.index)
    assert not [d for d in again.documents() if d["uploaded"]] and not again.skipped
    readme = tmp_path / "README.md"
    readme.write_text("# Field notes\n\nAlpacas spit when annoyed.", encoding="utf-8")
    again.add_file(readme, readme.name)
    # An uploaded README.md is a document the user chose, not a description of the corpus.
    third = Service(corpus=fresh_service.corpus, index=fresh_service.index)
    assert [d["doc_id"] for d in third.documents() if d["uploaded"]] == ["upload:README.md"]
    assert not third.skipped
    hidden = tmp_path / ".draft.txt"
    hidden.write_text("Vicunas live in the Andes.", encoding="utf-8")
    with pytest.raises(CorpusError, match="hidden file name"):  # a restart would drop it
        third.add_file(hidden, hidden.name)
    assert "upload:.draft.txt" not in third.retriever.documents
