import pytest

from qa.highlight import clip, mark_html, mark_text, merge_spans, term_spans
from qa.types import Span


def test_merge_spans():
    assert merge_spans([Span(5, 8), Span(0, 2), Span(1, 3), Span(8, 9)]) == [Span(0, 3), Span(5, 9)]


def test_clip():
    assert clip([Span(5, 15), Span(30, 40)], 10, 20) == [Span(0, 5)]


def test_mark_text():
    assert mark_text("founded by Lee", [Span(11, 14)]) == "founded by [[Lee]]"


def test_html_escapes_document_markup():
    text = '<script>alert("x")</script> founded by <b>Lee</b> & co'
    start = text.index("<b>Lee</b>")
    out = mark_html(text, [Span(start, start + len("<b>Lee</b>"))])
    assert "<script>" not in out and "<b>" not in out
    assert '<mark class="answer">&lt;b&gt;Lee&lt;/b&gt;</mark>' in out
    assert "&amp; co" in out
    # Only our own tags remain.
    stripped = out.replace('<mark class="answer">', "").replace("</mark>", "")
    assert "<" not in stripped


def test_answer_wins_over_terms():
    text = "Zhou Bowen founded Frontis.AI"
    out = mark_html(text, [Span(0, 10)], term_spans(text, "Who founded Frontis.AI?"))
    assert out.startswith('<mark class="answer">Zhou Bowen</mark>')
    assert '<mark class="term">founded</mark>' in out


@pytest.mark.parametrize("query", ["", "the of"])
def test_term_spans_empty(query):
    assert term_spans("some text", query) == []


def test_term_spans_match_stems():
    text = "It was founded in 2021."
    assert [text[s.start : s.end] for s in term_spans(text, "founding year")] == ["founded"]


def test_query_terms_light_up_whole_words_only():
    from qa.highlight import term_spans

    text = "Beijing-based unicorn 01.AI is an AI firm; JD.com too. End with AI."
    found = [(s.start, text[s.start : s.end]) for s in term_spans(text, "Is AI from Beijing or JD.com?")]
    assert found == [(0, "Beijing"), (34, "AI"), (43, "JD.com"), (64, "AI")]


def test_the_suffix_of_a_dotted_name_in_the_query_is_not_a_term():
    # "Frontis.AI" asked about must not light up every "AI" of the corpus, nor "JD.com" every "com".
    text = "Beijing-based AI startup Frontis, then Frontis.AI; JD.com is a .com shop"
    def found(query):
        return [text[s.start : s.end] for s in term_spans(text, query)]
    assert found("Who founded Frontis.AI?") == ["Frontis", "Frontis.AI"]
    assert found("Where is JD.com?") == ["JD.com"]
    # Asked on its own, the word still lights up.
    assert found("Is AI from JD.com?") == ["AI", "JD.com"]
