import pytest

from qa.labels import Label
from qa.conversation import Turn, bare_topic, needs_context, nothing_to_search, resolve, rewrite


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("In what year was it founded?", ["Who founded Frontis.AI?"],
         "In what year was Frontis.AI founded?"),
        ("Which newspaper did he speak to?", ["Who is Guo Tao?"],
         "Which newspaper did Guo Tao speak to?"),
        ("What does it focus on?", [Turn("What is ThreatBook's LLM called?", "XGPT", Label.PRODUCT)],
         "What does XGPT focus on?"),
        ("What is his profession?", [Turn("Who founded 01.AI?", "Lee Kai-fu", Label.PERSON)],
         "What is Lee Kai-fu's profession?"),
        ("What is the company best known for?",
         [Turn("Which company launched Zhinao?", "360 Security Technology", Label.ORG)],
         "What is 360 Security Technology best known for?"),
        # After a "what is X" question the answer describes X; "it" is still X.
        ("How many users does it have?", [Turn("What is Ernie Bot?", "a chatbot", Label.PROPN)],
         "How many users does Ernie Bot have?"),
        # Only a name: the previous question, asked about that name.
        ("And 360 Security Technology's?", ["What is iFlytek's model called?"],
         "What is 360 Security Technology's model called?"),
        ("What about Baidu?", ["How many LLMs did Xiaomi get approved?"],
         "How many LLMs did Baidu get approved?"),
        # Nothing to swap ("LLMs" is a common noun): the same question, for the new name.
        ("And Baidu?", ["How many LLMs were approved?"], "How many LLMs were approved for Baidu?"),
        # "the company behind it": the noun phrase is the question's own, "it" is the anaphor.
        ("Who runs the company behind it?", [Turn("What is Ernie Bot?", "a chatbot", Label.PROPN)],
         "Who runs the company behind Ernie Bot?"),
        ("Who founded the company that makes it?",
         [Turn("Which Baidu chatbot is similar to ChatGPT?", "Ernie Bot", Label.PROPN)],
         "Who founded the company that makes Ernie Bot?"),
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
    turn = Turn("What was Zhou Bowen's role at JD.com?", "senior vice-president", Label.ANCHOR)
    assert rewrite("Which start-up did he found?", [turn]).startswith(
        "Which start-up did Zhou Bowen found?"
    )


def test_walks_back_through_turns():
    turns = [Turn("Who is Guo Tao?"), Turn("What did the report say?")]
    assert "Guo Tao" in rewrite("Where does he work?", turns)


@pytest.mark.parametrize("q, expected", [("What about it?", True), ("Who founded 01.AI?", False)])
def test_needs_context(q, expected):
    assert needs_context(q) is expected


def test_subject_of_an_auxiliary_ends_before_its_verb():
    out = rewrite("Who issued it?", ["When did the interim regulation take effect?"])
    assert out.startswith("Who issued the interim regulation?")


def test_and_when_is_not_a_name():
    out = rewrite("And when?", ["Who founded 01.AI?"])
    assert "01.AI" in out and "when" in out.lower()


@pytest.mark.parametrize("text", ["hi", "Hello!", "thanks", "Thank you very much.", "bye"])
def test_small_talk_gets_a_friendly_reply_and_no_search(seed_assistant, text):
    reply = seed_assistant.ask(text, ["What is ThreatBook's LLM called?"])
    assert reply.message and reply.answer is None and not reply.passages


@pytest.mark.parametrize("text", ["What is this corpus about?", "what documents do you have?"])
def test_questions_about_the_corpus_get_its_summary(seed_assistant, text):
    reply = seed_assistant.ask(text, ["What is ThreatBook's LLM called?"])
    assert reply.message.startswith("The corpus holds 5 documents")
    for doc in seed_assistant.retriever.documents.values():
        assert doc.title in reply.message


def test_a_pronoun_with_no_history_is_not_guessed(seed_assistant):
    reply = seed_assistant.ask("When was it founded?")
    assert reply.answer is None and "Which one do you mean" in reply.message
    assert seed_assistant.ask("When was it founded?", ["Who founded Frontis.AI?"]).message is None


def test_small_talk_in_the_history_names_nothing(seed_assistant):
    reply = seed_assistant.ask("In what year was it founded?", ["Who founded Frontis.AI?", "thanks"])
    assert reply.query == "In what year was Frontis.AI founded?"


def test_a_turn_is_built_from_a_reply(seed_assistant):
    from qa.conversation import Turn

    reply = seed_assistant.ask("Who founded 01.AI?")
    turn = Turn.from_reply(reply)
    assert (turn.question, turn.answer, turn.answer_label) == (reply.query, "Lee Kai-fu", Label.PERSON)
    assert Turn.from_reply(seed_assistant.ask("What is the capital of France?")).answer is None


@pytest.mark.parametrize("question, earlier, pronoun", [
    ("Who founded it?", "Which company makes the XGPT model?", "it"),
    ("Which company does he lead?", "Who said there were 238 LLMs in China as of October?", "he"),
])
def test_a_pronoun_for_an_answer_never_given_is_not_guessed(question, earlier, pronoun):
    """The earlier question asked for the thing the pronoun means and got no answer: no name
    from it ("XGPT", "LLMs", "China") is put in."""
    out = resolve(question, [Turn(earlier)])
    assert out.unresolved == pronoun and out.query == question
    assert resolve(question, [Turn(earlier, "ThreatBook", Label.ORG if pronoun == "it" else Label.PERSON)]).unresolved is None


def test_an_unanswered_question_about_something_else_still_names_it():
    out = resolve("When did it take effect?", [Turn("When did China release the interim regulation?")])
    assert out.unresolved is None and "the interim regulation" in out.query


def test_a_follow_up_uses_only_answers_the_user_was_shown(seed_assistant):
    """The earlier question is answered again at the same threshold: when the user was told
    "I don't know", the follow-up asks which one instead of leaning on a hidden guess."""
    history = ["Which company makes the XGPT model?"]
    unsure = seed_assistant.ask("Who founded it?", history, threshold=1.5)
    assert unsure.answer is None and "was not answered" in unsure.message
    sure = seed_assistant.ask("Who founded it?", history, threshold=0.0)
    assert sure.message is None and sure.query != "Who founded it?"


@pytest.mark.parametrize("question, expected", [
    ("When was that?", "When LLMs introduced China October?"),
    ("Why did this happen?", "Why LLMs introduced China October?"),
])
def test_that_after_a_number_is_the_event_not_a_name(question, expected):
    """After "How many ...?" is answered with a number, "When was that?" asks about what was
    counted; before, it took a name from the question ("When was October?")."""
    earlier = Turn("How many LLMs had been introduced in China as of October?", "238", Label.CARDINAL)
    assert resolve(question, [earlier]).query == expected
    # After a name, "that" is still the thing named.
    assert resolve("Where is that?", [Turn("Which company makes Ernie Bot?", "Baidu", Label.ORG)]).query == "Where is Baidu?"


def test_where_was_that_after_a_count_finds_the_event(default_assistant):
    earlier = "How many LLMs had Robin Li said were released in China?"
    assert "70" in default_assistant.ask(earlier).answer.text
    reply = default_assistant.ask("Where was that?", [earlier])
    assert "Robin Li" in reply.query and reply.answer is not None and "Beijing" in reply.answer.text


@pytest.mark.parametrize("text", ["Baidu", "01.AI", "baidu", "Ernie Bot", "XGPT?", "CAC", "ThreatBook XGPT"])
def test_a_bare_name_is_a_topic_not_a_question(text):
    assert bare_topic(text) and not nothing_to_search(text)


@pytest.mark.parametrize("text", [
    "Who founded 01.AI?", "founder of 01.AI", "Founder of 01.AI", "Ernie Bot users",
    "Tell me about Baidu", "Is Baidu a company?", "Purpose of Telnet", "من أسس 01.AI؟",
])
def test_a_question_or_a_phrase_that_asks_for_something_is_not_a_bare_topic(text):
    assert not bare_topic(text)


@pytest.mark.parametrize("text", ["?", "...", "🙂🙂", "what", "Who?", "And why?"])
def test_nothing_to_search_for(text):
    assert nothing_to_search(text) and not bare_topic(text)


def test_a_bare_name_after_a_question_asks_the_same_of_it():
    assert rewrite("Frontis.AI?", ["Who founded 01.AI?"]) == "Who founded Frontis.AI?"
    assert rewrite("baidu", ["Who founded 01.AI?"]) == "Who founded baidu?"
    assert rewrite("And when?", ["Who founded Frontis.AI?"]) != "Who founded when?"


def test_a_bare_name_gets_its_passages_and_no_answer(seed_assistant):
    reply = seed_assistant.ask("Baidu")
    assert reply.answer is None and "asks nothing about it" in reply.message
    assert reply.passages and all("Baidu" in p.text for p in reply.passages[:3])
    # After a question it is that question about the name, and is answered.
    reply = seed_assistant.ask("Frontis.AI?", ["Who founded 01.AI?"])
    assert reply.query == "Who founded Frontis.AI?" and reply.answer.text == "Zhou Bowen"


@pytest.mark.parametrize("text", ["?", "🙂🙂", "what"])
def test_a_question_with_nothing_to_look_for_searches_nothing(seed_assistant, text):
    reply = seed_assistant.ask(text)
    assert reply.answer is None and not reply.passages and "nothing to look for" in reply.message
    # A follow-up takes its words from the question before it.
    assert seed_assistant.ask("And when?", ["Who founded Frontis.AI?"]).message is None


def test_he_points_to_a_person_further_back_before_a_name_that_is_not_one():
    turns = [Turn("Who founded 01.AI?", "Lee Kai-fu", Label.PERSON), Turn("When was 01.AI founded?")]
    assert rewrite("What else did he do?", turns) == "What else did Lee Kai-fu do?"
    # With no person anywhere, the last question's name is still taken, as before.
    assert rewrite("What did he say?", ["When was 01.AI founded?"]) == "What did 01.AI say?"


def test_a_bare_name_is_what_it_points_to_next(seed_assistant):
    reply = seed_assistant.ask("Who leads it?", ["Baidu"])
    assert reply.query == "Who leads Baidu?" and reply.message is None


def test_which_turns_stay_in_the_conversation(seed_assistant):
    from qa.types import Reply

    assert Turn.kept(Reply("Who founded 01.AI?", "Who founded 01.AI?", None))  # an abstention
    assert Turn.kept(seed_assistant.ask("Baidu"))  # a bare name the corpus holds
    assert not Turn.kept(Reply("Baidu", "Baidu", None, message="names something"))  # and one it does not
    # Small talk: "hello" is one word, like a bare name, but nothing was searched for it.
    assert not Turn.kept(Reply("hello", "hello", None, message="Hello!"))
    assert not Turn.kept(Reply("Who founded it?", "Who founded it?", None, message="Which one?"))


@pytest.mark.parametrize("before", [["hello"], ["thanks", "hi"]])
def test_a_pronoun_after_turns_that_named_nothing_is_not_guessed(seed_assistant, before):
    # It was answered "Lee Kai-fu" (0.55) after "hello" when the greeting counted as a bare name.
    reply = seed_assistant.ask("Who founded it?", before)
    assert reply.answer is None and "Which one do you mean by “it”" in reply.message
    assert not reply.passages


def test_a_noun_anaphor_points_to_a_referent_of_its_kind():
    model = Turn("What is ThreatBook's LLM called?", "XGPT", Label.PRODUCT)
    # "the company" is not the model that was the answer, but the company that owns it.
    assert rewrite("What does the company focus on?", [model]) == "What does ThreatBook focus on?"
    assert rewrite("When was the model released?", [model]) == "When was XGPT released?"
    maker = Turn("Which company launched Zhinao?", "360 Security Technology", Label.ORG)
    assert rewrite("Where is the company based?", [maker]) == "Where is 360 Security Technology based?"
    # Unanswered, "Which company ...?" leaves "the company" unknown, not "the model" it named.
    unanswered = Turn("Which company makes the XGPT model?")
    assert resolve("Where is the company based?", [unanswered]).unresolved == "the company"
    assert rewrite("When was the model released?", [unanswered]) == "When was the XGPT model released?"
