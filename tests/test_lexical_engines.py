"""The two lexical engines: same interface, alike rankings on the seed questions, and tantivy's
own persistence and updates inside the versioned index."""
from __future__ import annotations

import dataclasses

import pytest

from qa import evaluation as ev
from qa.config import RetrieverConfig
from qa.errors import IndexError_, InputError
from qa.lexical import LexicalIndex
from qa.lexical_tantivy import TantivyIndex
from qa.retriever import Retriever
from tests.conftest import ROOT

TERMS = [["lee", "found", "01.ai"], ["baidu", "ernie", "bot"], ["lee", "baidu"]]


@pytest.fixture(params=["rank-bm25", "tantivy"])
def engine(request):
    ix = LexicalIndex() if request.param == "rank-bm25" else TantivyIndex()
    ix.add([10, 11, 12], TERMS)
    return ix


def test_both_engines_keep_the_interface(engine):
    assert len(engine) == 3
    top = engine.top(["found", "01.ai"], 5)
    assert list(top) == [10]  # a chunk with none of the terms is not a match
    both = engine.top(["lee", "baidu"], 5)
    assert next(iter(both)) == 12 and set(both) == {10, 11, 12}
    scores = engine.scores_for(["lee"], [10, 11, 12])
    assert scores[11] == 0.0 and scores[12] > 0 and scores[10] > 0
    assert engine.idf("ernie") > engine.idf("lee") > 0 and engine.doc_fraction("lee") == pytest.approx(2 / 3)
    engine.remove({10})
    assert len(engine) == 2 and 10 not in engine.top(["lee"], 5)
    assert engine.top([], 5) == {} and engine.scores_for(["lee"], []) == {}


def test_tantivy_save_is_a_snapshot(tmp_path):
    ix = TantivyIndex()
    ix.add([1, 2], TERMS[:2])
    ix.save(tmp_path / "bm25.tantivy")
    ix.add([3], TERMS[2:])  # the live engine changes; the saved copy does not
    assert len(TantivyIndex.load(tmp_path / "bm25.tantivy")) == 2
    with pytest.raises(IndexError_, match="missing"):
        TantivyIndex.load(tmp_path / "nothing")


@pytest.fixture(scope="module")
def engines(encoder, seed_docs):
    return {e: Retriever.from_documents(seed_docs, RetrieverConfig(lexical=e), encoder=encoder)
            for e in ("rank-bm25", "tantivy")}


def test_engines_rank_the_seed_questions_alike(engines):
    qs = [q for q in ev.load_questions(ROOT / "eval" / "questions.jsonl") if q.sources and not q.history]
    agree, overlap, found = 0, 0.0, {"rank-bm25": 0, "tantivy": 0}
    for q in qs:
        hits = {e: r.search(q.question, k=5, mode="bm25") for e, r in engines.items()}
        a, b = hits["rank-bm25"], hits["tantivy"]
        agree += bool(a and b) and a[0].chunk.doc_id == b[0].chunk.doc_id
        overlap += len({h.chunk.chunk_id for h in a} & {h.chunk.chunk_id for h in b}) / 5
        for e, hs in hits.items():
            found[e] += any(h.chunk.doc_id in q.sources for h in hs)
    assert agree / len(qs) >= 0.85  # measured 0.93
    assert overlap / len(qs) >= 0.7  # measured 0.87
    assert abs(found["rank-bm25"] - found["tantivy"]) <= 0.05 * len(qs)


def test_a_tantivy_index_saves_loads_and_detects_damage(engines, tmp_path, encoder):
    r = engines["tantivy"]
    r.save(tmp_path / "index")
    back = Retriever.load(tmp_path / "index", encoder=encoder)
    assert back.lexical.name == "tantivy"
    q = "Who founded 01.AI?"
    assert [h.chunk.chunk_id for h in back.search(q, k=5)] == [h.chunk.chunk_id for h in r.search(q, k=5)]
    seg = next(p for p in (tmp_path / "index" / "bm25.tantivy").iterdir() if p.suffix == ".idx")
    seg.write_bytes(b"\0" + seg.read_bytes()[1:])
    with pytest.raises(IndexError_, match="bm25.tantivy"):
        Retriever.load(tmp_path / "index", encoder=encoder)


def test_auto_moves_to_tantivy_past_the_size(monkeypatch, seed_docs, encoder):
    import qa.lexical

    monkeypatch.setattr(qa.lexical, "AUTO_TANTIVY_CHUNKS", 30)
    r = Retriever.from_documents(seed_docs[:2], RetrieverConfig(), encoder=encoder)
    assert r.lexical.name == "rank-bm25" and len(r.chunks) <= 30
    before = r.search("Who founded 01.AI?", k=3, mode="bm25")
    r.add_documents(seed_docs[2:])
    assert r.lexical.name == "tantivy" and len(r.lexical) == len(r.chunks) > 30
    assert r.search("Who founded 01.AI?", k=3, mode="bm25")[0].chunk.doc_id == before[0].chunk.doc_id


def test_unknown_engine_is_refused():
    with pytest.raises(InputError, match="rank-bm25"):
        RetrieverConfig(lexical="lucene")
    assert dataclasses.replace(RetrieverConfig(), lexical="tantivy").index_key() != RetrieverConfig().index_key()
