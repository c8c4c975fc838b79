from __future__ import annotations

import json

import pytest

from qa.config import ChunkConfig, RetrieverConfig
from qa.documents import make_document
from qa.errors import IndexError_, InputError
from qa.retriever import Retriever

SCMP = "000_efa03a2983bcb19c"
GT = "001_cb54029318990064"


class TestSeedSearch:
    @pytest.mark.parametrize(
        "query, doc_id",
        [
            ("Who founded 01.AI?", SCMP),
            ("When did the interim regulation take effect?", GT),
            ("What is ThreatBook's LLM called?", SCMP),
            ("Which company is known for antivirus software?", "002_ead0084cd94f8a7a"),
            ("Which agency did the FBI accuse of using AI for espionage?", "004_bdc205730bf64109"),
        ],
    )
    @pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
    def test_right_article_first(self, seed_retriever, query, doc_id, mode):
        hits = seed_retriever.search(query, k=3, mode=mode)
        if mode == "dense" and doc_id == "004_bdc205730bf64109":
            assert doc_id in {h.chunk.doc_id for h in hits}
        else:
            assert hits[0].chunk.doc_id == doc_id

    @pytest.mark.parametrize("fusion", ["rrf", "weighted"])
    def test_hybrid_keeps_both_scores_and_ranks(self, seed_retriever, fusion):
        hits = seed_retriever.search("Who founded 01.AI?", k=5, fusion=fusion)
        assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
        assert all(h.lexical_score is not None and h.dense_score is not None for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    def test_single_mode_scores(self, seed_retriever):
        (bm25,) = seed_retriever.search("01.AI", k=1, mode="bm25")
        (dense,) = seed_retriever.search("01.AI", k=1, mode="dense")
        assert bm25.dense_score is None and bm25.score == bm25.lexical_score
        assert dense.lexical_score is None and dense.score == dense.dense_score

    def test_k_larger_than_corpus_is_clamped(self, seed_retriever):
        hits = seed_retriever.search("AI", k=10_000)
        assert len(hits) == len(seed_retriever.chunks)

    @pytest.mark.parametrize("query", ["", "   ", "\u200b\n\t"])
    def test_empty_query(self, seed_retriever, query):
        with pytest.raises(InputError, match="empty"):
            seed_retriever.search(query)

    def test_huge_query(self, seed_retriever):
        with pytest.raises(InputError, match="limit"):
            seed_retriever.search("why " * 1000)

    @pytest.mark.parametrize("k", [0, -3, 1.5, True])
    def test_bad_k(self, seed_retriever, k):
        with pytest.raises(InputError, match="k must"):
            seed_retriever.search("AI", k=k)

    def test_unknown_mode_lists_valid(self, seed_retriever):
        with pytest.raises(InputError, match="hybrid, bm25, dense"):
            seed_retriever.search("AI", mode="fuzzy")

    @pytest.mark.parametrize(
        "query", ["<script>alert(1)</script> Baidu", "Ｂａｉｄｕ？", "Baidu 😀 ✓", "stop the and of"]
    )
    def test_odd_queries_still_work(self, seed_retriever, query):
        assert len(seed_retriever.search(query, k=2)) == 2


class TestPersistence:
    def test_round_trip_identical_hits(self, seed_retriever, tmp_path, encoder):
        seed_retriever.save(tmp_path / "idx")
        loaded = Retriever.load(tmp_path / "idx", encoder=encoder)
        for q in ["Who founded 01.AI?", "deepfake applications", "Ernie Bot users"]:
            for mode in ["hybrid", "bm25", "dense"]:
                assert loaded.search(q, k=5, mode=mode) == seed_retriever.search(q, k=5, mode=mode)

    def test_manifest(self, seed_retriever, tmp_path):
        seed_retriever.save(tmp_path / "idx")
        m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
        assert m["format_version"] == 2 and m["model"] == "all-MiniLM-L6-v2"
        assert m["documents"] == len(seed_retriever.documents) == 5
        assert m["chunks"] == len(seed_retriever.chunks)
        live = (tmp_path / "idx").resolve()
        leftovers = [p for p in tmp_path.glob(".idx*") if p.resolve() != live and p.name != ".idx.lock"]
        assert not leftovers, "temporary folders were left behind"

    def test_no_pickle_files(self, seed_retriever, tmp_path):
        seed_retriever.save(tmp_path / "idx")
        names = sorted(p.name for p in (tmp_path / "idx").iterdir())
        assert names == ["bm25.json", "dense.faiss", "manifest.json", "store.sqlite"]

    def test_missing_index(self, tmp_path, encoder):
        with pytest.raises(IndexError_, match="qa index"):
            Retriever.load(tmp_path / "none", encoder=encoder)

    @pytest.mark.parametrize(
        "damage",
        ["manifest.json", "bm25.json", "dense.faiss", "store.sqlite"],
    )
    def test_corrupt_index(self, seed_retriever, tmp_path, encoder, damage):
        seed_retriever.save(tmp_path / "idx")
        path = tmp_path / "idx" / damage
        path.unlink()  # a new file: the fixture may still be reading the saved one
        path.write_text("{not json")
        with pytest.raises(IndexError_, match="Rebuild"):
            Retriever.load(tmp_path / "idx", encoder=encoder)

    @pytest.mark.parametrize(
        "edit, message",
        [
            (lambda m: m.update(format_version=99), "format version 99.*Rebuild"),
            (lambda m: m["index_key"].update(tokenizer=1), "tokenizer version 1.*Rebuild"),
        ],
        ids=["format", "tokenizer"],
    )
    def test_incompatible_index(self, seed_retriever, tmp_path, encoder, edit, message):
        seed_retriever.save(tmp_path / "idx")
        path = tmp_path / "idx" / "manifest.json"
        m = json.loads(path.read_text())
        edit(m)
        path.write_text(json.dumps(m))
        with pytest.raises(IndexError_, match=message):
            Retriever.load(tmp_path / "idx", encoder=encoder)

    def test_failed_save_keeps_old_index(self, seed_retriever, tmp_path, monkeypatch):
        target = tmp_path / "idx"
        seed_retriever.save(target)
        before = (target / "store.sqlite").read_bytes()

        def boom(*a, **k):
            raise OSError("disk full")

        monkeypatch.setattr(seed_retriever.dense, "save_into", boom)
        with pytest.raises(OSError):
            seed_retriever.save(target)
        assert (target / "store.sqlite").read_bytes() == before
        assert not list(tmp_path.glob(".idx.tmp-*"))


class TestIncremental:
    def test_add_and_remove_update_both_indexes(self, tiny_docs, encoder):
        r = Retriever.from_documents(tiny_docs[:2], encoder=encoder)
        vec_before = r.dense.vectors([0])
        extra = tiny_docs[2]
        r.add_documents([extra])
        assert r.search("Who commanded Apollo 11?", k=1)[0].chunk.doc_id == "space"
        # Chunks that were already there keep their id and vector (no re-embedding).
        assert (r.dense.vectors([0]) == vec_before).all()
        r.remove_documents(["space"])
        assert "space" not in {h.chunk.doc_id for h in r.search("Apollo Moon", k=10)}
        assert len(r.dense) == len(r.chunks) == len(r.lexical)

    def test_bm25_statistics_match_a_fresh_build(self, tiny_docs, encoder):
        grown = Retriever.from_documents(tiny_docs[:1], encoder=encoder)
        grown.add_documents(tiny_docs[1:])
        fresh = Retriever.from_documents(tiny_docs, encoder=encoder)
        for q in ["Nile river", "apple Japan", "Moon"]:
            a = [(h.chunk.doc_id, round(h.score, 6)) for h in grown.search(q, k=3)]
            b = [(h.chunk.doc_id, round(h.score, 6)) for h in fresh.search(q, k=3)]
            assert a == b

    def test_replacing_a_document(self, tiny_docs, encoder):
        r = Retriever.from_documents(tiny_docs, encoder=encoder)
        r.add_documents([make_document("rivers", "The Amazon carries the most water of any river.")])
        assert "Amazon" in r.search("river water", k=1)[0].chunk.text
        assert sum(1 for d in r.documents if d == "rivers") == 1


class TestOpen:
    def test_builds_then_updates_stale_index(self, tiny_folder, tmp_path, encoder):
        idx = tmp_path / "idx"
        r = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert set(r.documents) == {"apples", "rivers", "space"}
        (tiny_folder / "tea.txt").write_text("Green tea comes from Camellia sinensis leaves.")
        (tiny_folder / "apples.txt").unlink()
        r2 = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert set(r2.documents) == {"rivers", "space", "tea"}
        assert r2.search("Camellia", k=1)[0].chunk.doc_id == "tea"
        # And the saved index now holds the update.
        assert set(Retriever.load(idx, encoder=encoder).documents) == set(r2.documents)

    def test_config_change_rebuilds(self, tiny_folder, tmp_path, encoder):
        idx = tmp_path / "idx"
        Retriever.open(idx, tiny_folder, encoder=encoder)
        cfg = RetrieverConfig(chunk=ChunkConfig(size=60, overlap=0))
        r = Retriever.open(idx, tiny_folder, cfg, encoder=encoder)
        assert r.config.chunk.size == 60
        assert json.loads((idx / "manifest.json").read_text())["index_key"]["chunk"]["size"] == 60

    def test_tokenizer_change_rebuilds(self, tiny_folder, tmp_path, encoder):
        idx = tmp_path / "idx"
        Retriever.open(idx, tiny_folder, encoder=encoder)
        m = json.loads((idx / "manifest.json").read_text())
        m["index_key"]["tokenizer"] = 1
        (idx / "manifest.json").write_text(json.dumps(m))
        r = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert r.search("Camellia sinensis", k=1) is not None
        saved = json.loads((idx / "manifest.json").read_text())["index_key"]["tokenizer"]
        assert saved == RetrieverConfig().index_key()["tokenizer"] != 1

    def test_corrupt_index_is_reported_not_overwritten(self, tiny_folder, tmp_path, encoder):
        idx = tmp_path / "idx"
        Retriever.open(idx, tiny_folder, encoder=encoder)
        (idx / "manifest.json").write_text("garbage")
        with pytest.raises(IndexError_):
            Retriever.open(idx, tiny_folder, encoder=encoder)
        assert (idx / "manifest.json").read_text() == "garbage"

    def test_unchanged_folder_is_not_read_and_a_touched_file_is_hashed(self, tiny_folder, tmp_path,
                                                                        encoder, monkeypatch):
        import os

        import qa.retriever

        idx = tmp_path / "idx"
        Retriever.open(idx, tiny_folder, encoder=encoder)
        reads = []
        real = qa.retriever.load_folder
        monkeypatch.setattr(qa.retriever, "load_folder", lambda f: reads.append(f) or real(f))
        version = (idx).resolve()
        r = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert reads == [] and set(r.documents) == {"apples", "rivers", "space"}
        assert idx.resolve() == version  # nothing rewritten
        # Same bytes, new time: read and compared by hash, not re-indexed, stats recorded.
        st = (tiny_folder / "apples.txt").stat()
        os.utime(tiny_folder / "apples.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
        r = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert len(reads) == 1 and r.corpus_stats["apples.txt"][1] == st.st_mtime_ns + 10**9
        Retriever.open(idx, tiny_folder, encoder=encoder)
        assert len(reads) == 1  # recorded, so not read again
        (tiny_folder / "apples.txt").write_text("Pears grow in orchards too.")
        r = Retriever.open(idx, tiny_folder, encoder=encoder)
        assert len(reads) == 2 and "Pears" in r.documents["apples"].text

    def test_a_document_list_is_always_synced_and_records_its_folder(self, tiny_folder, tmp_path, encoder):
        from qa.documents import corpus_stats, load_folder

        idx, stats = tmp_path / "idx", corpus_stats(tiny_folder)
        docs = load_folder(tiny_folder)
        Retriever.open(idx, docs, encoder=encoder, folder_stats=stats)
        # The same folder stats, fewer documents (an upload deleted): the list wins.
        r = Retriever.open(idx, docs[:2], encoder=encoder, folder_stats=stats)
        assert len(r.documents) == 2 and r.corpus_stats == stats


def test_many_small_saves_load_as_a_fresh_build_would(seed_docs, encoder, tmp_path, monkeypatch):
    """Saves write deltas beside shared files, and now and then the whole index: whatever
    the sequence, the saved index holds what a build of the same documents holds."""
    import random

    from qa import docstore

    monkeypatch.setattr(docstore, "_DELTA_ROWS", 12)  # so deltas and whole rewrites both happen
    docs = {d.doc_id: d for d in seed_docs}
    live = dict(list(docs.items())[:2])
    Retriever.from_documents(live.values(), encoder=encoder).save(tmp_path / "idx")
    rng = random.Random(0)
    kinds = set()
    for _ in range(10):
        r = Retriever.load(tmp_path / "idx", encoder=encoder)
        doc_id = rng.choice(sorted(docs))
        if doc_id in live and len(live) > 1:
            r.remove_documents([doc_id])
            del live[doc_id]
        else:
            r.add_documents([docs[doc_id]])
            live[doc_id] = docs[doc_id]
        r.save(tmp_path / "idx")
        kinds.add((tmp_path / "idx" / docstore.DELTA).exists())
    assert kinds == {True, False}
    back = Retriever.load(tmp_path / "idx", encoder=encoder)
    fresh = Retriever.from_documents(live.values(), encoder=encoder)
    assert sorted(back.documents) == sorted(live) and len(back.chunks) == len(fresh.chunks)
    assert sorted(c.text for c in back.chunks.values()) == sorted(c.text for c in fresh.chunks.values())
    for q in ["Who founded 01.AI?", "deepfake applications", "Ernie Bot users"]:
        a, b = back.search(q, k=3), fresh.search(q, k=3)
        assert [(h.chunk.doc_id, h.chunk.text) for h in a] == [(h.chunk.doc_id, h.chunk.text) for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)


def test_open_rebuilds_an_index_saved_in_an_older_format(tiny_docs, encoder, tmp_path, caplog):
    import logging

    Retriever.from_documents(tiny_docs, encoder=encoder).save(tmp_path / "idx")
    path = tmp_path / "idx" / "manifest.json"
    m = json.loads(path.read_text())
    path.write_text(json.dumps({**m, "format_version": 1}))  # as the JSON Lines indexes were
    with caplog.at_level(logging.INFO, logger="qa.retriever"):
        r = Retriever.open(tmp_path / "idx", tiny_docs, encoder=encoder)
    assert "another format" in caplog.text
    assert json.loads(path.read_text())["format_version"] == 2
    assert sorted(r.documents) == sorted(d.doc_id for d in tiny_docs)
