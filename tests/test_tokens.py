import pytest

from qa.tokens import lemma, tokenize, tokenize_spans


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("the of and", []),
        ("Regulations", ["regul"]),
        ("ThreatBook’s XGPT", ["threatbook", "xgpt"]),
        ("ThreatBook's", ["threatbook"]),
        ("Ｆｕｌｌｗｉｄｔｈ", ["fullwidth"]),
    ],
)
def test_tokenize(text, expected):
    assert tokenize(text) == expected


def test_compound_names_also_give_parts():
    terms = tokenize("Frontis.AI")
    assert "frontis.ai" in terms and "fronti" in terms


def test_offsets_point_at_original_text():
    text = "Who founded 01.AI, the Beijing unicorn?"
    for tok in tokenize_spans(text):
        assert text[tok.start : tok.end].strip()
    assert [text[t.start : t.end] for t in tokenize_spans(text)][:2] == ["founded", "01.AI"]


def test_query_and_document_share_terms():
    assert set(tokenize("When was it founded?")) & set(tokenize("which was founded in 2021"))


@pytest.mark.parametrize(
    "word, base",
    [
        ("held", "hold"), ("told", "tell"), ("spoke", "speak"), ("men", "man"),
        ("led", "lead"),
        # Ambiguous without a tag, so kept: "found" (find / found), "left" (leave / left).
        ("found", "found"), ("left", "left"), ("founded", "found"),
        ("models", "model"), ("xgpt", "xgpt"),
    ],
)
def test_lemma_of_irregular_forms(word, base):
    assert lemma(word) == base


def test_irregular_forms_share_terms():
    assert tokenize("the United States held 50%") == tokenize("the United States hold 50%")
    assert set(tokenize("Who founded it?")) & set(tokenize("which was founded in 2021"))


def test_stemming_is_safe_across_threads():
    # One shared Snowball stemmer failed under load (IndexError from two requests at once).
    from concurrent.futures import ThreadPoolExecutor

    from qa.tokens import stem

    words = [f"{w}{i}ing" for i in range(4000) for w in ("approv", "found", "regulat")]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(stem.__wrapped__, words))
    assert got == [stem.__wrapped__(w) for w in words]
