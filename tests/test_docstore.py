"""qa.docstore: the SQLite store of documents, annotations and chunks, read lazily."""
from __future__ import annotations

import shutil

import pytest

from qa.annotate import Annotation, Entity
from qa.docstore import FILE, DocStore
from qa.documents import corpus_fingerprint
from qa.errors import IndexError_
from qa.types import Chunk, Document, Segment, Span

# Characters outside ASCII before the chunks: SQLite must slice characters, not bytes.
TEXT_A = "Café ünïcode 🙂 first. The answer is here.\n\nSecond paragraph."
TEXT_B = "Plain text about teapots."


def _doc(doc_id: str, text: str, raw: str | None = None) -> Document:
    segs = (Segment(0, 0, len(text)),) if raw is not None else ()
    return Document(doc_id, text, raw if raw is not None else text, title=doc_id.upper(),
                    publisher="P", date="2024-01-02", author=None, path=f"/c/{doc_id}.txt", segments=segs)


def _ann(doc_id: str, text: str) -> Annotation:
    return Annotation(doc_id, sentences=(Span(0, len(text)),), entities=(Entity("ORG", 0, 4),),
                      noun_chunks=(Span(0, 4),))


def _fill(s: DocStore, doc: Document, first_id: int, cuts: list[tuple[int, int]]) -> None:
    s.documents[doc.doc_id] = doc
    s.annotations[doc.doc_id] = _ann(doc.doc_id, doc.text)
    for i, (a, b) in enumerate(cuts):
        s.chunks[first_id + i] = Chunk(doc.doc_id, doc.text[a:b], a, b, first_id + i)


@pytest.fixture
def saved(tmp_path):
    s = DocStore()
    _fill(s, _doc("a", TEXT_A, raw="<p>" + TEXT_A + "</p>"), 0, [(0, 22), (22, len(TEXT_A))])
    _fill(s, _doc("b", TEXT_B), 2, [(0, len(TEXT_B))])
    path = tmp_path / "v1" / FILE
    path.parent.mkdir()
    s.write(path)
    return s, path


def test_round_trip_reads_back_identical_rows(saved):
    s, path = saved
    expected = (dict(s.documents.added), dict(s.annotations.added), dict(s.chunks.added))
    back = DocStore(path)
    assert dict(back.documents) == expected[0]
    assert dict(back.annotations) == expected[1]
    assert dict(back.chunks) == expected[2]
    assert back.chunks[1].text == TEXT_A[22:]  # sliced by SQLite, by characters
    assert back.documents["a"].raw.startswith("<p>") and back.documents["b"].raw == TEXT_B
    assert back.fingerprints() == corpus_fingerprint(expected[0].values())
    assert back.chunks.max_id() == 2 and len(back.chunks) == 3 and back.problem() is None


def test_changes_stay_in_memory_until_written(saved, tmp_path):
    _, path = saved
    before = path.read_bytes()
    s = DocStore(path)
    del s.documents["b"], s.annotations["b"]
    for cid in s.chunks.ids_of(["b"]):
        del s.chunks[cid]
    new = _doc("c", "New text.")
    _fill(s, new, 3, [(0, 9)])
    s.documents["a"] = _doc("a", "Replaced.")  # shadows the saved row
    assert sorted(s.documents) == ["a", "c"] and len(s.documents) == 2
    assert s.documents["a"].text == "Replaced." and "b" not in s.documents
    assert s.chunks.ids_of(["a", "b", "c"]) == {0, 1, 3}
    with pytest.raises(KeyError):
        s.chunks[2]
    with pytest.raises(KeyError):
        del s.documents["b"]
    assert s.documents.values() == [s.documents[k] for k in s.documents]  # saved rows and overlay
    assert path.read_bytes() == before  # the saved file is never written
    out = tmp_path / "v2.sqlite"
    s.write(out)
    s.rebase(out)
    assert not s.changed and sorted(s.documents) == ["a", "c"] and s.documents["a"].text == "Replaced."
    assert sorted(s.chunks) == [0, 1, 3] and s.chunks[3].text == "New text."
    assert s.documents.values() == [s.documents[k] for k in s.documents]
    assert s.fingerprints() == corpus_fingerprint([s.documents["a"], s.documents["c"]])


def test_unchanged_store_is_linked_not_copied(saved, tmp_path):
    _, path = saved
    s = DocStore(path)
    s.write(tmp_path / "linked.sqlite")
    assert (tmp_path / "linked.sqlite").stat().st_ino == path.stat().st_ino


def test_reads_survive_the_saved_folder_being_swapped_away(saved, tmp_path):
    _, path = saved
    s = DocStore(path)
    assert s.documents["a"].title == "A"
    shutil.rmtree(path.parent)  # what a later save of another process does to the old version
    assert s.chunks[2].text == TEXT_B and s.documents["b"].text == TEXT_B
    s.documents["d"] = _doc("d", "More.")
    s.write(tmp_path / "again.sqlite")  # copied through the open connection
    assert sorted(DocStore(tmp_path / "again.sqlite").documents) == ["a", "b", "d"]


def test_missing_annotations_are_reported(tmp_path):
    s = DocStore()
    s.documents["a"] = _doc("a", TEXT_B)
    assert s.problem() == "annotations missing"


def test_damaged_file_gives_an_index_error(tmp_path):
    bad = tmp_path / FILE
    bad.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(IndexError_, match="unreadable"):
        DocStore(bad)


def test_a_file_replaced_at_the_saved_path_is_not_linked(saved, tmp_path):
    _, path = saved
    s = DocStore(path)
    path.unlink()
    path.write_bytes(b"something else")  # another writer put a different file there
    s.write(tmp_path / "out.sqlite")
    assert (tmp_path / "out.sqlite").stat().st_ino != path.stat().st_ino
    assert sorted(DocStore(tmp_path / "out.sqlite").documents) == ["a", "b"]


def test_small_saves_write_a_delta_beside_the_shared_file(saved, tmp_path, monkeypatch):
    from qa import docstore

    _, path = saved
    s = DocStore.open(path.parent)
    del s.documents["b"], s.annotations["b"], s.chunks[2]
    _fill(s, _doc("c", "New text."), 3, [(0, 9)])
    v2 = tmp_path / "v2"
    v2.mkdir()
    assert s.save_into(v2) is True
    assert (v2 / FILE).stat().st_ino == path.stat().st_ino and (v2 / docstore.DELTA).exists()
    s.saved_into(v2, True)
    back = DocStore.open(v2)
    assert sorted(back.documents) == ["a", "c"] and sorted(back.chunks) == [0, 1, 3]
    assert back.chunks[3].text == "New text." and back.chunks.ids_of(["c", "b"]) == {3}
    assert back.fingerprints() == s.fingerprints()
    # Past the delta's limit the store is written whole, changes merged in.
    monkeypatch.setattr(docstore, "_DELTA_ROWS", 0)
    v3 = tmp_path / "v3"
    v3.mkdir()
    assert back.save_into(v3) is False and not (v3 / docstore.DELTA).exists()
    back.saved_into(v3, False)
    assert not back.changed and sorted(DocStore.open(v3).documents) == ["a", "c"]
    assert dict(DocStore.open(v3).chunks) == dict(back.chunks)


def test_damaged_delta_gives_an_index_error(saved, tmp_path):
    from qa import docstore

    _, path = saved
    (path.parent / docstore.DELTA).write_bytes(b"not a database" * 50)
    with pytest.raises(IndexError_):
        DocStore.open(path.parent)


def test_a_saved_file_changed_in_place_is_never_linked_into_a_new_version(saved, tmp_path):
    import os

    _, path = saved
    s = DocStore.open(path.parent)
    s.documents["z"] = _doc("z", "Z.")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # as any write in place would
    out = tmp_path / "v9"
    out.mkdir()
    with pytest.raises(IndexError_, match="changed by something else.*rebuild"):
        s.save_into(out)
    assert not (out / FILE).exists()
