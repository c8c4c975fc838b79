"""The bad-input catalogue: every odd question and file gets a clean answer or a clean refusal
(4xx, or a non-zero exit with a message), never a traceback, and never changes the saved index."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from qa.cli import main
from tests.conftest import BAD_FILES, SEEDS, index_digest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

QUESTIONS = {
    "empty": "",
    "blank": "   \n\t ",
    "huge": "Who founded 01.AI? " * 400,
    "nul": "Who\x00 founded 01.AI?",
    "only nul": "\x00\x00\x00",
    "control": "Who\x07 founded\x1b[31m 01.AI?",
    "rtl override": "\u202eWho founded 01.AI?",
    "arabic": "من أسس 01.AI؟",
    "emoji": "😀🚀 who founded 01.AI? 🤖",
    "only emoji": "😀😀😀",
    "script": "<script>alert(1)</script>Who founded 01.AI?",
    "markup only": "<b></b><i></i>",
    "fullwidth": "Ｗｈｏ ｆｏｕｎｄｅｄ ０１．ＡＩ？",
    "zero width": "Who\u200b founded\u200d 01.AI?",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory, encoder):
    import ui
    from qa.service import Service

    root = tmp_path_factory.mktemp("bad")
    shutil.copytree(SEEDS, root / "seeds")
    service = Service(corpus=root / "seeds", index=root / "index")
    return TestClient(ui.create_app(service)), root / "index"


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_http_questions(served, name):
    client, index = served
    before = index_digest(index)
    for path, body in (("/api/ask", {"question": QUESTIONS[name]}), ("/api/search", {"query": QUESTIONS[name]})):
        r = client.post(path, json=body)
        assert r.status_code == 200 or 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
        assert "Traceback" not in r.text
        if r.status_code != 200:
            assert r.json().get("error")
        elif path == "/api/ask":
            assert "<script" not in (r.json().get("answer") or "")
    assert index_digest(index) == before


BODIES = {  # malformed bodies, each sent to every POST endpoint
    "not json": b"hello", "truncated": b'{"question": "x"', "empty": b"", "null": b"null",
    "array": b"[]", "string": b'"x"', "non-utf8": b"\xff\xfe", "nan": b'{"question": NaN, "query": NaN}',
    "infinity k": b'{"query": "x", "question": "x", "k": Infinity}', "object field": b'{"question": {"a": 1}}',
    "number field": b'{"question": 42, "query": 42}', "history text": b'{"question": "x", "history": "abc"}',
    "history file": b'{"question": "x", "history": [{"type": "file", "file": {"path": "/etc/hostname"}}]}',
    "deep nesting": b"[" * 200_000, "huge number": b'{"query": "x", "k": 1' + b"0" * 5000 + b"}",
    "lone surrogate": b'{"question": "\\ud800", "query": "\\ud800"}',
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_http_malformed_bodies(served, name):
    client, index = served
    before = index_digest(index)
    for path in ("/api/ask", "/api/search", "/api/feedback"):
        r = client.post(path, content=BODIES[name], headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
        assert r.json()["error"] and "Traceback" not in r.text
    assert index_digest(index) == before


def test_http_unknown_endpoints_and_methods_say_what_exists(served):
    client, _ = served
    r = client.get("/api/nowhere")
    assert r.status_code == 404 and "POST /api/ask" in r.json()["error"]
    r = client.get("/api/ask")
    assert r.status_code == 405 and "POST /api/ask" in r.json()["error"]


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_cli_questions(served, name):
    _, index = served
    before = index_digest(index)
    result = CliRunner().invoke(main, ["ask", QUESTIONS[name], "--index", str(index), "--corpus", str(index.parent / "seeds")])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, TypeError, AttributeError))
    if result.exit_code:
        assert "rror" in result.output  # "Error: ..." with the reason
    assert index_digest(index) == before


def test_bad_corpus_files_are_skipped_or_read_cleanly(tmp_path, encoder):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    for name, data in BAD_FILES.items():
        (corpus / name).write_bytes(data)
    result = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for bad in ("zero.txt", "binary.txt", "broken.pdf", "latin1.txt"):
        assert f"skipped {bad}" in result.output
    assert "convert it" in result.output  # a legacy encoding is refused with the fix
    from qa.retriever import Retriever

    r = Retriever.load(tmp_path / "index", encoder=encoder)
    assert "alert(1)" not in r.documents["script"].text and "kiwi" in r.documents["script"].text
    assert {"odd name ’✓ (1)", "-dash"} <= set(r.documents)
    before = index_digest(tmp_path / "index")
    again = CliRunner().invoke(main, ["ask", "What is the kiwi?", "--index", str(tmp_path / "index"),
                                      "--corpus", str(corpus)])
    assert again.exit_code == 0 and index_digest(tmp_path / "index") == before


# ----- the library: Retriever.search and Assistant.ask take the same catalogue ---------------
LIBRARY_CALLS = {  # the arguments, and whether they must be refused
    "k zero": (dict(k=0), True), "k negative": (dict(k=-3), True), "k text": (dict(k="5"), True),
    "k bool": (dict(k=True), True), "k float": (dict(k=2.5), True), "k huge": (dict(k=10**9), False),
    "mode unknown": (dict(mode="fuzzy"), True), "fusion unknown": (dict(fusion="sum"), True),
    "mode none": (dict(mode=None), False),
}


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_library_questions(default_assistant, name):
    """Each odd question is answered (or not) or refused with the package's InputError."""
    from qa.errors import InputError

    for call in (lambda q: default_assistant.retriever.search(q, k=3), default_assistant.ask):
        try:
            call(QUESTIONS[name])
        except InputError as exc:
            assert str(exc)  # a message that says what was wrong


@pytest.mark.parametrize("name", sorted(LIBRARY_CALLS))
def test_library_arguments(default_assistant, name):
    from qa.errors import InputError

    kw, refused = LIBRARY_CALLS[name]
    for call in (default_assistant.retriever.search, default_assistant.ask):
        if refused:
            with pytest.raises(InputError, match=f"(?i){next(iter(kw))}"):
                call("Who founded 01.AI?", **kw)
        else:
            assert call("Who founded 01.AI?", **kw) is not None


@pytest.mark.parametrize("history", [None, (), iter(["Who founded 01.AI?"]), ["Who founded 01.AI?"] * 50,
                                     [""], ["\x00"], [42], [None], "Who founded 01.AI?",
                                     ["<script>alert(1)</script>"]],
                         ids=["none", "empty", "generator", "long", "blank turn", "nul turn",
                              "number turn", "none turn", "a string", "script turn"])
def test_library_histories(default_assistant, history):
    from qa.errors import InputError

    try:
        reply = default_assistant.ask("When was it founded?", history)
    except InputError as exc:
        assert str(exc)
    else:
        assert reply.question == "When was it founded?"


@pytest.mark.parametrize("threshold", [float("nan"), "0.5", True, None.__class__])
def test_library_thresholds_that_are_not_numbers_are_refused(default_assistant, threshold):
    from qa.errors import InputError

    with pytest.raises(InputError, match="threshold must be a number"):
        default_assistant.ask("Who founded 01.AI?", threshold=threshold)


def test_library_thresholds_past_the_confidence_range_answer_all_or_nothing(default_assistant):
    ask = default_assistant.ask
    assert ask("Who founded 01.AI?", threshold=float("-inf")).answer is not None
    assert ask("Who founded 01.AI?", threshold=-1).answer is not None
    assert ask("Who founded 01.AI?", threshold=1.5).answer is None
    assert ask("Who founded 01.AI?", threshold=float("inf")).answer is None
