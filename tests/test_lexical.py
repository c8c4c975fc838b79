"""BM25 over chunk terms: scores, statistics, updates and the saved form."""
from __future__ import annotations

import numpy as np
import pytest

from qa.errors import IndexError_
from qa.lexical import LexicalIndex


def _index() -> LexicalIndex:
    ix = LexicalIndex()
    ix.add([10, 11, 12], [["lee", "found", "01.ai"], ["baidu", "ernie", "bot"], ["lee", "baidu"]])
    return ix


def test_scores_rank_the_chunk_with_the_rare_terms_first():
    ix = _index()
    s = ix.scores(["found", "01.ai"])
    assert s.shape == (3,) and int(np.argmax(s)) == 0 and s[1] == 0
    assert not ix.scores([]).any()


def test_statistics_follow_updates():
    ix = _index()
    assert ix.doc_fraction("lee") == pytest.approx(2 / 3)
    assert ix.idf("ernie") > ix.idf("lee") > 0
    assert ix.idf("never-seen") >= ix.idf("ernie")  # unseen terms get the highest weight
    ix.remove({10})
    assert ix.ids == [11, 12] and ix.doc_fraction("lee") == 0.5
    assert ix.doc_fraction("found") == 0.0


def test_empty_index_scores_nothing():
    ix = LexicalIndex()
    assert ix.scores(["x"]).shape == (0,) and ix.idf("x") == 1.0 and ix.doc_fraction("x") == 0.0
    ix.add([1], [[]])
    assert ix.scores(["x"]).tolist() == [0.0]


def test_save_load_round_trip(tmp_path):
    ix = _index()
    ix.save(tmp_path / "bm25.json")
    back = LexicalIndex.load(tmp_path / "bm25.json")
    assert back.ids == ix.ids and np.allclose(back.scores(["lee"]), ix.scores(["lee"]))


@pytest.mark.parametrize("text", ["not json", '{"k1": 1.2}', '{"k1": 1.2, "b": 0.7, "ids": [1], "terms": []}'])
def test_damaged_state_is_refused_clearly(tmp_path, text):
    (tmp_path / "bm25.json").write_text(text)
    with pytest.raises(IndexError_, match="BM25 state"):
        LexicalIndex.load(tmp_path / "bm25.json")
