import pytest

from qa.question import analyze


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Who founded 01.AI?", "person"),
        ("Which person started the company behind Pinshang?", "person"),
        ("When was Frontis.AI founded?", "date"),
        ("How many users has Ernie Bot garnered?", "number"),
        ("What share of the world's LLMs did China possess?", "number"),
        ("Which regulator published the list?", "organisation"),
        ("Which country held 50%?", "place"),
        ("Which European country has approved the most models?", "place"),
        ("What is the name of iFlytek's AI model?", "product"),
        ("What is iFlytek best known for?", "description"),
        ("Who is Guo Tao?", "description"),
        ("What is Ernie Bot?", "description"),
        ("Why did the Normans join Turkish forces?", "reason"),
        ("What unit is measured?", "thing"),
        ("What is the foundation for separation results?", "thing"),
    ],
)
def test_answer_kind(question, kind):
    assert analyze(question).kind == kind


def test_number_subtypes():
    assert analyze("What share of the world's LLMs did China possess?").primary == {"PERCENT"}
    assert "ORDINAL" in analyze("Which round of approvals was it?").primary


def test_focus_names_and_descriptors():
    q = analyze("Which news agency reported the approval, according to Benzinga?")
    assert "benzinga" in q.focus
    assert set(q.descriptors) == {"news", "agenc"}
    assert "accord" not in q.terms  # the question's frame, not a fact to find
    # A name in the wh-phrase restricts the answer: it must be found, not assumed.
    q = analyze("Which European country has approved the most models?")
    assert "european" in q.focus and "european" not in q.descriptors


def test_names_with_a_small_first_letter():
    assert "iflytek" in analyze("What is iFlytek's model called?").focus


def test_plural():
    assert analyze("Which firms were in the first batch?").plural
    assert not analyze("Which firm predicted it?").plural


def test_context_in_parentheses_does_not_decide_the_kind():
    q = analyze("Which start-up did Zhou Bowen found?", ["role", "JD.com"])
    assert q.kind == "organisation"
    assert "role" in q.context and "role" in q.terms


@pytest.mark.parametrize("typed,read", [
    ("And what is iFlytek known for?", "What is iFlytek known for?"),
    ("and when did it take effect?", "When did it take effect?"),
    ("So, who founded 01.AI?", "Who founded 01.AI?"),
    ("But why?", "Why?"),
    ("Can you tell me who founded 01.AI?", "Who founded 01.AI?"),
    ("Could you please tell me when the regulation took effect?", "When the regulation took effect?"),
    ("Please, how many LLMs were approved?", "How many LLMs were approved?"),
    ("And do you know which company makes XGPT?", "Which company makes XGPT?"),
    ("Hi, who founded 01.AI?", "Who founded 01.AI?"),
    ("Thanks! And when was Frontis.AI founded?", "When was Frontis.AI founded?"),
])
def test_a_conversational_opening_is_not_part_of_the_question(typed, read):
    q, plain = analyze(typed), analyze(read)
    assert q.text == read
    assert (q.kind, q.expected, q.terms, q.focus) == (plain.kind, plain.expected, plain.terms, plain.focus)


@pytest.mark.parametrize("text", ["And Baidu's?", "And?", "Andrew founded what?", "Well known for what?",
                                  "So far, how many LLMs were approved?", "Tell me about Baidu",
                                  "Do you know Baidu?", "Can you tell me about XGPT?", "Hi", "Thanks!"])
def test_words_that_only_look_like_an_opening_stay(text):
    assert analyze(text).text == text


def test_the_span_model_reads_the_question_without_its_opening(model_assistant):
    """Prefixed to the stand-alone seed questions, "And " or "Can you tell me " changed the
    answers; the span model never saw a question start that way."""
    b = model_assistant.ask("Who founded 01.AI?", threshold=float("-inf")).answer
    for typed in ("And who founded 01.AI?", "Can you tell me who founded 01.AI?", "Hi, who founded 01.AI?"):
        a = model_assistant.ask(typed, threshold=float("-inf")).answer
        assert a is not None and (a.text, a.score) == (b.text, b.score), typed
