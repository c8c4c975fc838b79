import pytest

from qa.metrics import (
    answer_scores,
    dedupe,
    exact_match,
    f1,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    reciprocal_rank,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The  Cat!", "cat"),
        ("an apple, a pear", "apple pear"),
        ("“Zhinao”", "zhinao"),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize_answer(text) == expected


def test_em_and_f1():
    assert exact_match("the Eiffel Tower", "Eiffel Tower") == 1.0
    assert f1("Eiffel Tower Paris", "Eiffel Tower") == pytest.approx(0.8)
    assert f1("nothing", "Eiffel Tower") == 0.0


@pytest.mark.parametrize(
    "pred, golds, expected",
    [
        (None, [], (1.0, 1.0)),
        ("x", [], (0.0, 0.0)),
        (None, ["a"], (0.0, 0.0)),
        ("Lee Kai-fu", ["venture capitalist Lee Kai-fu", "Lee Kai-fu"], (1.0, 1.0)),
    ],
)
def test_answer_scores(pred, golds, expected):
    assert answer_scores(pred, golds) == expected


def test_ranking_metrics():
    ranked = ["b", "a", "c"]
    assert recall_at_k(ranked, ["a"], 1) == 0.0
    assert recall_at_k(ranked, ["a"], 2) == 1.0
    assert reciprocal_rank(ranked, ["a"]) == 0.5
    assert reciprocal_rank(ranked, ["z"]) == 0.0
    assert ndcg_at_k(["a"], ["a"], 10) == 1.0
    assert 0 < ndcg_at_k(ranked, ["a", "c"], 10) < 1
    assert ndcg_at_k(ranked, [], 10) == 0.0


def test_dedupe_and_percentile():
    assert dedupe(["a", "b", "a"]) == ["a", "b"]
    assert percentile([], 50) == 0.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
