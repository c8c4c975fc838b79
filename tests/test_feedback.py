"""Answer feedback (qa.feedback): checked rows, safe appends, conversion into a question file,
and the three ways in: HTTP, gradio_client and the chat's thumbs in the page (browser test)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa import feedback
from qa.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def test_rows_are_checked():
    row = feedback.make_entry(" Who founded 01.AI? ", "Lee Kai-fu", ["000_efa03a2983bcb19c"], "up")
    assert row["question"] == "Who founded 01.AI?" and row["verdict"] == "up" and row["time"].endswith("Z")
    for bad in (dict(verdict="maybe"), dict(question=""), dict(question="x" * 2001),
                dict(sources=["d"] * 21), dict(question=None)):
        args = dict(question="q?", answer="a", sources=[], verdict="down") | bad
        with pytest.raises(InputError):
            feedback.make_entry(**args)


def test_appends_from_many_threads_stay_whole_and_damage_is_skipped(tmp_path):
    path = tmp_path / "fb.jsonl"

    def worker(n):
        for i in range(25):
            feedback.append(path, feedback.make_entry(f"question {n}-{i} " + "é" * 300, "a", [], "up"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(feedback.read(path)) == 200
    with path.open("a") as fh:
        fh.write('{"question": "cut off in the midd\n{"verdict": "up"}\n')
    assert len(feedback.read(path)) == 200


def test_last_verdict_wins_and_wrong_answers_go_to_review(tmp_path):
    rows = [feedback.make_entry("Who founded 01.AI?", "Xiaomi", ["d0"], "up"),
            feedback.make_entry("Who founded 01.AI?", "Lee Kai-fu", ["d0"], "up"),
            feedback.make_entry("When was it founded?", "2021", ["d0"], "up", ["Who founded Frontis.AI?"]),
            feedback.make_entry("Who is the CEO of SenseTime?", "Baidu", ["d2"], "down")]
    good, review = feedback.to_questions(rows)
    assert [(q["question"], q["answers"]) for q in good] == [
        ("Who founded 01.AI?", ["Lee Kai-fu"]), ("When was it founded?", ["2021"])]
    assert good[1]["history"] == ["Who founded Frontis.AI?"]
    assert review == [review[0]] and review[0]["marked_wrong"] == "Baidu" and review[0]["answers"] == []


@pytest.fixture(scope="module")
def client(tmp_path_factory, encoder):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    import ui
    from qa.service import Service

    root = tmp_path_factory.mktemp("fb")
    shutil.copytree(ROOT / "seeds", root / "seeds")
    service = Service(corpus=root / "seeds", index=root / "index")
    return TestClient(ui.create_app(service)), service


def test_http_feedback_then_qa_eval_makes_a_question_file(client, tmp_path):
    http, service = client
    ask = http.post("/api/ask", json={"question": "Who founded Frontis.AI?"}).json()
    sent = {"question": "Who founded Frontis.AI?", "answer": ask["answer"],
            "sources": ask["sources"], "verdict": "up"}
    r = http.post("/api/feedback", json=sent)
    assert r.status_code == 200 and r.json()["verdict"] == "up"
    bad = http.post("/api/feedback", json=sent | {"verdict": "meh"})
    assert bad.status_code == 400 and "verdict" in bad.json()["error"]
    long = http.post("/api/feedback", json=sent | {"question": "x" * 5000})
    assert long.status_code == 400 and "at most 2,000" in long.json()["error"]
    assert http.post("/api/feedback", json=sent | {"question": "x" * 100_000}).status_code == 422
    rows = feedback.read(service.feedback_file)
    assert len(rows) == 1 and rows[0]["answer"] == "Zhou Bowen"

    out = tmp_path / "fb-questions.jsonl"
    run = subprocess.run([sys.executable, "-m", "qa.cli", "eval", "--from-feedback", str(service.feedback_file),
                          "--write-questions", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    from qa.evaluation import load_questions

    qs = load_questions(out)
    assert [(q.question, q.answers) for q in qs] == [("Who founded Frontis.AI?", ("Zhou Bowen",))]
    assert qs[0].sources == ("000_efa03a2983bcb19c",)
    assert json.loads((tmp_path / "fb-questions.review.jsonl").read_text() or "null") is None


def test_gradio_client_feedback(live_server):
    gradio_client = pytest.importorskip("gradio_client")
    c = gradio_client.Client(live_server, verbose=False)
    row = c.predict("Who founded 01.AI?", "Lee Kai-fu", ["000_efa03a2983bcb19c"], "down", [], api_name="/feedback")
    assert row["verdict"] == "down" and row["answer"] == "Lee Kai-fu"
    with pytest.raises(Exception, match="verdict"):
        c.predict("Who founded 01.AI?", "x", [], "sideways", [], api_name="/feedback")
