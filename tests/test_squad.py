"""SQuAD-format files from the wild (issue 14): variants accepted, problems reported at once."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa.errors import CorpusError
from qa.evaluation import load_squad, split
from qa.squad import parse_squad

CTX = "Apollo 11 landed on the Moon on July 20, 1969. Neil Armstrong was its commander."


def para(qas, **extra):
    return {"context": CTX, "qas": qas, **extra}


def q(id_, question, answers=None, **extra):
    return {"id": id_, "question": question, "answers": answers or [], **extra}


WHEN = [{"text": "July 20, 1969", "answer_start": 32}]


def test_no_title_uses_document_id_then_position():
    data = {"data": [
        {"paragraphs": [para([q(1, "When?", WHEN)], document_id="doc-7")]},
        {"paragraphs": [para([q(2, "Who?", [{"text": "Neil Armstrong", "answer_start": 47}])])]},
    ]}
    paras = parse_squad(data)
    assert [p.doc_id for p in paras] == ["doc-7_000", "article-1_000"]


def test_integer_ids_become_strings_and_split():
    data = {"data": [{"title": "T", "paragraphs": [para([q(i, f"When {i}?", WHEN) for i in range(10)])]}]}
    paras = parse_squad(data)
    assert [x.id for x in paras[0].questions] == [str(i) for i in range(10)]


def test_missing_is_impossible_is_inferred_from_answers(tmp_path):
    data = {"data": [{"title": "T", "paragraphs": [para([q("a", "When?", WHEN), q("b", "Why?")])]}]}
    path = tmp_path / "v.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    docs, questions = load_squad(path)
    assert [x.answerable for x in questions] == [True, False]
    calib, test = split(questions)
    assert len(calib) + len(test) == 2


def test_squad_v11_has_no_unanswerable_questions():
    data = {"version": "1.1", "data": [{"title": "T", "paragraphs": [para([q("a", "When?", WHEN)])]}]}
    assert not parse_squad(data)[0].questions[0].impossible


def test_long_context_is_chunked_like_any_document(tmp_path, encoder):
    from qa.retriever import Retriever

    long = " ".join(f"Sentence {i} tells about topic {i}." for i in range(900))
    start = long.index("topic 777")
    data = {"data": [{"paragraphs": [{"context": long, "document_id": 5, "qas": [
        q(1, "Which topic?", [{"text": "topic 777", "answer_start": start}])]}]}]}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    docs, questions = load_squad(path)
    r = Retriever.from_documents(docs, encoder=encoder)
    assert len(docs[0].text) > 23_000 and len(r.chunks) > 50


def test_every_problem_is_reported_with_its_location():
    data = {"data": [{"title": "T", "paragraphs": [
        {"qas": [q("a", "When?", WHEN)]},                                    # no context
        para([q("b", "When?", [{"text": "July 20, 1969", "answer_start": 5}])]),  # wrong start
        para([q("c", "", WHEN), {"question": "no id"}]),
    ]}]}
    with pytest.raises(CorpusError) as err:
        parse_squad(data, "bad.json")
    msg = str(err.value)
    assert "4 problem(s)" in msg and "nothing was indexed" in msg
    assert "article 0, paragraph 0: 'context' is missing" in msg
    assert "article 0, paragraph 1, question 0, answer 0: answer_start 5" in msg
    assert "paragraph 2, question 0: 'question' is missing" in msg
    assert "paragraph 2, question 1: 'id' must be" in msg


@pytest.mark.parametrize("content", ['{"data": 3}', "not json", '{"version": "2"}', ""])
def test_cli_eval_on_a_broken_file_exits_cleanly(tmp_path, content):
    from qa.cli import main

    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--squad", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Error:" in result.output
