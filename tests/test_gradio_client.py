"""The README's gradio_client example, run against a real server."""
from __future__ import annotations

import pytest

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def client(live_server):
    return gradio_client.Client(live_server, verbose=False)


def test_readme_conversation_example(client):
    r = client.predict("Who founded Frontis.AI?", [], api_name="/ask")
    assert r["answer"] == "Zhou Bowen" and r["citations"]
    r = client.predict("In what year was it founded?", r["history"], api_name="/ask")
    assert (r["query"], r["answer"]) == ("In what year was Frontis.AI founded?", "2021")
    assert [m["role"] for m in r["history"]] == ["user", "assistant", "user", "assistant"]


def test_search_and_documents_endpoints(client):
    hits = client.predict("ThreatBook XGPT", 3, "hybrid", api_name="/search")
    assert len(hits) == 3 and {"doc_id", "text", "start", "end", "score"} <= set(hits[0])
    docs = client.predict(api_name="/documents")
    assert len(docs) == 5 and all(d["citation"] and not d["uploaded"] for d in docs)


def test_errors_reach_the_client_as_messages(client):
    with pytest.raises(Exception, match="empty|question"):
        client.predict("   ", [], api_name="/ask")


def test_delete_refuses_a_corpus_document(client):
    with pytest.raises(Exception, match="not an uploaded document"):
        client.predict("000_efa03a2983bcb19c", api_name="/delete")
    assert len(client.predict(api_name="/documents")) == 5


def test_document_endpoint_gives_the_text_answers_point_into(client):
    r = client.predict("Who founded Frontis.AI?", [], api_name="/ask")
    doc = client.predict(r["doc_id"], api_name="/document")
    assert doc["text"][r["start"]:r["end"]] == r["answer"] == "Zhou Bowen"
    assert "South China Morning Post" in doc["citation"]
    with pytest.raises(Exception, match="no document"):
        client.predict("nope", api_name="/document")


def test_upload_ask_delete_through_the_client(client, tmp_path):
    from gradio_client import handle_file

    note = tmp_path / "pears.md"
    note.write_text("# Pears\n\nThe Bartlett pear was first grown in England in 1765.\n", encoding="utf-8")
    r = client.predict(handle_file(str(note)), api_name="/upload")
    assert r["doc_id"] == "upload:pears.md" and any(d["doc_id"] == "upload:pears.md" for d in r["documents"])
    a = client.predict("When was the Bartlett pear first grown?", [], api_name="/ask")
    assert a["answer"] == "1765" and a["doc_id"] == "upload:pears.md"
    left = client.predict("upload:pears.md", api_name="/delete")
    assert all(d["doc_id"] != "upload:pears.md" for d in left)
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x00")
    with pytest.raises(Exception, match="unsupported file type"):
        client.predict(handle_file(str(bad)), api_name="/upload")

