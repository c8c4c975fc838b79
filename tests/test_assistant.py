from __future__ import annotations

import pytest

from qa.assistant import Assistant
from qa.config import ReaderConfig
from qa.errors import InputError


def test_follow_up_is_rewritten_and_answered(seed_assistant):
    reply = seed_assistant.ask("In what year was it founded?", ["Who founded Frontis.AI?"])
    assert reply.query == "In what year was Frontis.AI founded?"
    assert reply.answer is not None and "2021" in reply.answer.text


def test_follow_up_uses_previous_answer(seed_assistant):
    reply = seed_assistant.ask("What does it focus on?", ["What is ThreatBook's LLM called?"])
    assert "XGPT" in reply.query
    assert "internet security" in reply.answer.text


@pytest.mark.parametrize("bad", ["", "   ", "x" * 5000])
def test_bad_questions(seed_assistant, bad):
    with pytest.raises(InputError):
        seed_assistant.ask(bad)


def test_history_must_be_a_list(seed_assistant):
    with pytest.raises(InputError, match="history"):
        seed_assistant.ask("When?", "Who founded 01.AI?")


def test_html_question_is_plain_text(seed_assistant):
    reply = seed_assistant.ask("<b>Who founded 01.AI?</b>")
    assert reply.answer is not None and "Lee Kai-fu" in reply.answer.text


def test_timings_are_recorded(seed_assistant):
    reply = seed_assistant.ask("Who founded 01.AI?")
    assert reply.retrieval_ms > 0 and reply.reading_ms > 0


def test_unloadable_reader_model_falls_back(seed_retriever, caplog, tmp_path):
    bot = Assistant(seed_retriever, ReaderConfig(model=str(tmp_path / "no-such-model")))
    assert bot.reader.name == "rules"
    assert "cannot load reader model" in caplog.text
    assert bot.ask("Who founded 01.AI?").answer is not None


def test_follow_up_answer_sits_by_the_new_words(seed_assistant):
    # "it" is the regulation; the answer is the date it took effect, not the date of release.
    reply = seed_assistant.ask(
        "When did it take effect?",
        ["When did China release the interim regulation on the management of generative AI services?"],
    )
    assert reply.query.startswith("When did the interim regulation take effect?")
    assert reply.answer is not None and "August 15, 2023" in reply.answer.text


@pytest.mark.parametrize("history", [None, (), (q for q in ["Who founded Frontis.AI?"])])
def test_history_may_be_none_a_tuple_or_a_generator(seed_assistant, history):
    reply = seed_assistant.ask("Who founded 01.AI?", history)
    assert reply.answer is not None


def test_huge_markup_question_is_refused_before_parsing(seed_assistant):
    import time

    from qa.errors import InputError

    t0 = time.perf_counter()
    with pytest.raises(InputError, match="the limit is 2000"):
        seed_assistant.ask("<b>x</b>" * 1_000_000)
    assert time.perf_counter() - t0 < 1.0  # refused, not parsed (parsing took 25 s)


def test_clear_caches_forgets_query_embeddings_and_model_reads(default_assistant):
    """Benchmarks time each question cold: nothing cached by one question may serve the next."""
    encode = type(default_assistant.retriever.encoder).encode_query
    model = default_assistant.reader.model_reader
    default_assistant.ask("Who founded Frontis.AI?")
    assert encode.cache_info().currsize > 0 and model._guess_cache.get(
        ("Who founded Frontis.AI?", default_assistant.retriever.search("Who founded Frontis.AI?", k=1)[0].chunk.text)) is not None
    rules = default_assistant.reader.rule_reader
    default_assistant.ask("What technology is used to train ChatGPT?")  # re-ranked by embedding
    assert len(rules._pool_cache) and len(rules.dense._hyps)
    default_assistant.clear_caches()
    assert encode.cache_info().currsize == 0 and not model._guess_cache._data
    assert not len(rules._pool_cache) and not len(rules.dense._hyps)


@pytest.mark.parametrize("bot", ["default_assistant", "seed_assistant", "model_assistant"])
def test_k_is_the_number_of_passages_read(request, bot):
    """``ask(k=1)`` reads only the top passage (before, every reader read its config's five)."""
    bot = request.getfixturevalue(bot)
    q = "How many LLMs has China released, according to Robin Li at a conference?"
    top = bot.retriever.search(q, k=1)[0].chunk
    reply = bot.ask(q, k=1, threshold=float("-inf"))
    assert len(reply.passages) == 1
    for a in (reply.answer, *reply.alternatives):
        assert a.doc_id == top.doc_id and top.start <= a.span.start and a.span.end <= top.end, a.text


def test_a_huge_k_reads_at_most_max_read_passages(default_assistant, monkeypatch):
    from qa.assistant import MAX_READ

    seen = []
    forward = default_assistant.reader.model_reader._forward
    monkeypatch.setattr(default_assistant.reader.model_reader, "_forward",
                        lambda q, passages: seen.append(len(passages)) or forward(q, passages))
    default_assistant.clear_caches()
    default_assistant.ask("What is the capital of France?", k=10**9)
    assert seen and sum(seen) <= MAX_READ
