"""Spelling correction against the corpus vocabulary."""
from __future__ import annotations

import pytest

from qa.spelling import Speller

TEXTS = ["Baidu's Ernie Bot was approved in August.", "ThreatBook launched XGPT for internet security.",
         "Frontis.AI was founded by Zhou Bowen. More than 40 AI models were approved."]


@pytest.fixture(scope="module")
def speller():
    return Speller.from_texts(TEXTS)


@pytest.mark.parametrize("typed, fixed", [
    ("Was Ernie Bot aproved?", "Was Ernie Bot approved?"),
    ("What did ThreatBok launch?", "What did ThreatBook launch?"),
    ("who foundded fronts.ai", "who founded frontis.ai"),
    ("Whcih models were approved?", "Which models were approved?"),
])
def test_misspelt_words_become_corpus_words_in_the_same_case(speller, typed, fixed):
    text, fixes = speller.correct(typed)
    assert text == fixed
    assert all(typed[c.start : c.end] == c.original for c in fixes)


@pytest.mark.parametrize("clean", [
    "Who founded Frontis.AI?", "What is the capital of France?", "How many AI models got approval?",
    "Was XGPT approved in 2023?", "Who is Lee Kai-fu?", "What did ThreatBook's model do?",
])
def test_clean_questions_are_never_changed(speller, clean):
    # English words the corpus lacks ("capital", "France") and short words stay as typed.
    assert speller.correct(clean) == (clean, ())


def test_assistant_corrects_and_says_so(default_assistant):
    reply = default_assistant.ask("how many AI modles were aproved in the last six monts?")
    assert "models" in reply.query and "approved" in reply.query and "months" in reply.query
    assert {(c.original, c.corrected) for c in reply.corrections} >= {("modles", "models"), ("aproved", "approved")}
    assert reply.question.startswith("how many AI modles")
    assert reply.answer is not None and "40" in reply.answer.text


def test_correction_can_be_turned_off(seed_retriever):
    from qa.assistant import Assistant
    from qa.config import ReaderConfig

    bot = Assistant(seed_retriever, ReaderConfig(reader="rules", spelling=False))
    reply = bot.ask("Who foundded 01.AI?")
    assert reply.corrections == () and reply.query == "Who foundded 01.AI?"
