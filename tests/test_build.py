"""The streamed, resumable build (qa.build): batches, checkpoints, resume after a kill,
and updates that embed only what changed."""
from __future__ import annotations

import pytest

from qa.build import build_index
from qa.retriever import Retriever


@pytest.fixture
def added(monkeypatch):
    """Every batch of documents the build embeds, by id; optionally fail on the Nth batch."""
    calls: list[list[str]] = []
    state = {"fail_on": None}
    original = Retriever.add_documents

    def spy(self, docs):
        docs = list(docs)
        if docs:
            calls.append([d.doc_id for d in docs])
            if state["fail_on"] == len(calls):
                raise KeyboardInterrupt  # the build is killed here
        return original(self, docs)

    monkeypatch.setattr(Retriever, "add_documents", spy)
    return calls, state


def test_a_killed_build_resumes_and_embeds_only_what_it_lacked(tiny_folder, tmp_path, encoder, added):
    calls, state = added
    index = tmp_path / "index"
    state["fail_on"] = 3
    with pytest.raises(KeyboardInterrupt):
        build_index(index, tiny_folder, batch_docs=1, checkpoint_s=0, progress=False, encoder=encoder)
    checkpoint = Retriever.load(index, encoder=encoder)
    assert sorted(checkpoint.documents) == ["apples", "rivers"]  # the batches done before the kill
    assert checkpoint.corpus_stats is None  # a checkpoint is always checked against the folder
    state["fail_on"] = None
    calls.clear()
    r, skipped = build_index(index, tiny_folder, batch_docs=1, checkpoint_s=0, progress=False, encoder=encoder)
    assert calls == [["space"]] and skipped == []
    assert sorted(Retriever.load(index, encoder=encoder).documents) == ["apples", "rivers", "space"]
    assert r.search("Who commanded Apollo 11?", k=1)[0].chunk.doc_id == "space"


def test_an_unchanged_corpus_embeds_and_writes_nothing(tiny_folder, tmp_path, encoder, added):
    calls, _ = added
    index = tmp_path / "index"
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    before = (index / "manifest.json").read_bytes()
    calls.clear()
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    assert calls == [] and (index / "manifest.json").read_bytes() == before


def test_changes_removals_and_bad_files(tiny_folder, tmp_path, encoder, added):
    calls, _ = added
    index = tmp_path / "index"
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    calls.clear()
    (tiny_folder / "apples.txt").write_text("Pears grow in orchards too. The Bartlett pear is common.", encoding="utf-8")
    (tiny_folder / "rivers.txt").unlink()
    (tiny_folder / "empty.txt").write_text("", encoding="utf-8")
    r, skipped = build_index(index, tiny_folder, progress=False, encoder=encoder)
    assert calls == [["apples"]]
    assert sorted(r.documents) == ["apples", "space"] and [s.name for s in skipped] == ["empty.txt"]
    assert "Bartlett" in Retriever.load(index, encoder=encoder).search("Bartlett pear", k=1)[0].chunk.text


def test_rebuild_starts_over(tiny_folder, tmp_path, encoder, added):
    calls, _ = added
    index = tmp_path / "index"
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    calls.clear()
    build_index(index, tiny_folder, rebuild=True, progress=False, encoder=encoder)
    assert sorted(d for c in calls for d in c) == ["apples", "rivers", "space"]


def test_an_index_in_an_older_format_is_built_afresh(tiny_folder, tmp_path, encoder, added):
    import json

    calls, _ = added
    index = tmp_path / "index"
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    manifest = index / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 1}))
    calls.clear()
    r, _ = build_index(index, tiny_folder, progress=False, encoder=encoder)
    assert sorted(d for c in calls for d in c) == ["apples", "rivers", "space"]
    assert json.loads(manifest.read_text())["format_version"] == 2 and len(r.documents) == 3


def test_a_readme_is_listed_as_skipped_and_changes_nothing(tiny_folder, tmp_path, encoder, added):
    calls, _ = added
    index = tmp_path / "index"
    build_index(index, tiny_folder, progress=False, encoder=encoder)
    calls.clear()
    (tiny_folder / "README.md").write_text("# What this folder holds\n\nNotes.", encoding="utf-8")
    r, skipped = build_index(index, tiny_folder, progress=False, encoder=encoder)
    assert calls == [] and "README" not in r.documents
    assert [(s.name, s.bad) for s in skipped] == [("README.md", False)]
