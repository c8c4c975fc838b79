import pytest

from qa.conversation import Turn, needs_context, rewrite


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("In what year was it founded?", ["Who founded Frontis.AI?"],
         "In what year was Frontis.AI founded?"),
        ("Which newspaper did he speak to?", ["Who is Guo Tao?"],
         "Which newspaper did Guo Tao speak to?"),
        ("What does it focus on?", [Turn("What is ThreatBook's LLM called?", "XGPT", "PRODUCT")],
         "What does XGPT focus on?"),
        ("What is his profession?", [Turn("Who founded 01.AI?", "Lee Kai-fu", "PERSON")],
         "What is Lee Kai-fu's profession?"),
        ("What is the company best known for?",
         [Turn("Which company launched Zhinao?", "360 Security Technology", "ORG")],
         "What is 360 Security Technology best known for?"),
    ],
)
def test_rewrite(question, history, expected):
    assert rewrite(question, history) == expected


def test_standalone_question_is_unchanged():
    assert rewrite("Who founded 01.AI?", ["What is XGPT?"]) == "Who founded 01.AI?"


def test_no_history():
    assert rewrite("When was it founded?", []) == "When was it founded?"


def test_name_from_question_keeps_context_words():
    out = rewrite("When did it take effect?", ["When did China release the interim regulation?"])
    assert "interim regulation" in out


def test_person_pronoun_skips_a_non_person_answer():
    turn = Turn("What was Zhou Bowen's role at JD.com?", "senior vice-president", "ANCHOR")
    assert rewrite("Which start-up did he found?", [turn]).startswith(
        "Which start-up did Zhou Bowen found?"
    )


def test_walks_back_through_turns():
    turns = [Turn("Who is Guo Tao?"), Turn("What did the report say?")]
    assert "Guo Tao" in rewrite("Where does he work?", turns)


@pytest.mark.parametrize("q, expected", [("What about it?", True), ("Who founded 01.AI?", False)])
def test_needs_context(q, expected):
    assert needs_context(q) is expected
