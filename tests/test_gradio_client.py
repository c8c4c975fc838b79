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
