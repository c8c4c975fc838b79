import pytest

from qa.chunking import chunk_document
from qa.config import ChunkConfig
from qa.errors import InputError
from qa.types import Span

TEXT = "Alpha one. Beta two is longer. Gamma three. Delta four here. Epsilon five."


def sentences(text):
    out, start = [], 0
    for part in text.split(". "):
        end = start + len(part) + (1 if not part.endswith(".") else 0)
        end = min(end, len(text))
        out.append(Span(start, end))
        start = end + 1
    return out


def test_chunks_never_cut_sentences():
    sents = sentences(TEXT)
    bounds = {s.start for s in sents} | {s.end for s in sents}
    for c in chunk_document("d", TEXT, sents, ChunkConfig(size=50, overlap=20)):
        assert c.start in bounds and c.end in bounds
        assert c.text == TEXT[c.start : c.end]
        assert c.doc_id == "d"


def test_overlap_repeats_trailing_sentence():
    chunks = chunk_document("d", TEXT, sentences(TEXT), ChunkConfig(size=50, overlap=20))
    assert len(chunks) > 1
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # overlapping
        assert b.start > a.start  # always moving forward


def test_no_overlap():
    chunks = chunk_document("d", TEXT, sentences(TEXT), ChunkConfig(size=50, overlap=0))
    for a, b in zip(chunks, chunks[1:]):
        assert b.start >= a.end


def test_covers_all_text():
    chunks = chunk_document("d", TEXT, sentences(TEXT), ChunkConfig(size=50, overlap=10))
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT)


def test_long_sentence_is_its_own_chunk():
    text = "x" * 300 + "."
    chunks = chunk_document("d", text, [Span(0, len(text))], ChunkConfig(size=100, overlap=10))
    assert [(c.start, c.end) for c in chunks] == [(0, len(text))]


@pytest.mark.parametrize("text", ["", "   "])
def test_empty(text):
    assert chunk_document("d", text, [], ChunkConfig()) == []


def test_no_sentences_falls_back_to_whole_text():
    assert chunk_document("d", "  hello  ", [], ChunkConfig())[0].text == "hello"


@pytest.mark.parametrize("size, overlap", [(10, 0), (100, 100), (100, -1)])
def test_bad_config(size, overlap):
    with pytest.raises(InputError):
        ChunkConfig(size=size, overlap=overlap)


def test_seed_chunks_hold_offsets(seed_retriever):
    for c in seed_retriever.chunks.values():
        doc = seed_retriever.documents[c.doc_id]
        assert doc.text[c.start : c.end] == c.text
