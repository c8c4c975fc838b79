"""Annotation at index time: sentences, entities and noun chunks at exact document offsets."""
from __future__ import annotations

from qa.annotate import Annotation, annotate
from qa.documents import make_document
from qa.labels import ENTITY_LABELS, Label


def test_offsets_are_exact_and_trimmed():
    text = "  Lee Kai-fu founded 01.AI in Beijing in 2023.  The Nile flows north.\n"
    ann = annotate([make_document("d", text)])[0]
    doc_text = make_document("d", text).text
    assert len(ann.sentences) == 2
    for s in ann.sentences + ann.noun_chunks:
        piece = doc_text[s.start : s.end]
        assert piece and piece == piece.strip()
    ents = {doc_text[e.start : e.end]: Label.parse(e.label) for e in ann.entities}
    assert ents.get("Lee Kai-fu") == Label.PERSON and ents.get("2023") == Label.DATE
    assert all(Label.parse(e.label) in ENTITY_LABELS for e in ann.entities)
    assert any(doc_text[c.start : c.end] == "The Nile" for c in ann.noun_chunks)


def test_many_documents_keep_their_order():
    docs = [make_document("a", "Apples grow on trees."), make_document("b", "Hi."),
            make_document("c", "Rivers flow. Seas are salty.")]
    anns = annotate(docs)
    assert [a.doc_id for a in anns] == ["a", "b", "c"]
    assert len(anns[1].sentences) == 1 and len(anns[2].sentences) == 2
    assert annotate([]) == []


def test_json_round_trip():
    ann = annotate([make_document("d", "Robin Li runs Baidu.")])[0]
    assert Annotation.from_json(ann.to_json()) == ann
