"""The built-in reader on the real seed corpus: each answer type, offsets, agreement."""
from __future__ import annotations

import pytest

from qa.metrics import f1
from qa.question import analyze


@pytest.mark.parametrize(
    "question, gold, kind",
    [
        ("Who founded 01.AI?", "Lee Kai-fu", "person"),
        ("Which new government body was set up to implement a national standard for LLMs?",
         "China Electronic Standardisation Institute", "organisation"),
        ("When did the interim regulation take effect?", "August 15, 2023", "date"),
        ("How many Chinese enterprises are behind the 14 LLMs in the latest batch?", "13", "number"),
        ("What percentage improvement in efficiency does Ernie 3.5 have?", "50%", "number"),
        ("What is the name of Frontis's AI model business shooting tool?", "moxiaoxian", "product"),
        ("Which regulator published a list of companies waiting for deepfake approval?",
         "Cyberspace Administration of China|CAC", "organisation"),
        ("How did Robin Li describe the country's frenzy over LLMs?", "a huge waste of resources",
         "description"),
        ("What does ThreatBook's XGPT model focus on?", "internet security", "description"),
    ],
)
def test_answer_types(seed_assistant, question, gold, kind):
    assert analyze(question).kind == kind
    reply = seed_assistant.ask(question)
    assert reply.answer is not None
    assert max(f1(reply.answer.text, g) for g in gold.split("|")) >= 0.6, reply.answer.text


def test_offsets_point_at_the_answer(seed_assistant):
    reply = seed_assistant.ask("Who founded 01.AI?")
    a = reply.answer
    doc = seed_assistant.retriever.documents[a.doc_id]
    assert doc.text[a.span.start : a.span.end] == a.text
    assert a.sentence_span is not None
    assert doc.text[a.sentence_span.start : a.sentence_span.end] == a.sentence
    assert a.text in a.sentence
    raw = doc.to_raw(a.span)
    assert doc.raw[raw.start : raw.end] == a.text
    for p in a.passages:
        for h in p.highlights:
            assert p.text[h.start : h.end] == a.text


def test_does_not_answer_with_the_question(seed_assistant):
    a = seed_assistant.ask("Who founded Frontis.AI?").answer
    assert "Frontis" not in a.text and "founded" not in a.text


def test_agreement_merges_sources(seed_assistant):
    a = seed_assistant.ask("How many users has Ernie Bot garnered?").answer
    assert "100 million" in a.text
    assert set(a.sources) >= {"003_bad449f29e6d01ff", "004_bdc205730bf64109"}
    assert len(a.passages) == len(a.sources)


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "What was Baidu's share price in January 2024?",
        "Which European country has approved the most language models?",
    ],
)
def test_abstains_when_corpus_lacks_the_answer(seed_assistant, question):
    reply = seed_assistant.ask(question)
    assert reply.answer is None
    assert reply.abstained
    assert reply.passages  # the closest passages are still shown


def test_no_hits_no_answer(seed_assistant):
    assert seed_assistant.reader.read("Who?", []) == []
