"""Sentence-aware chunking with overlap. A chunk never cuts a sentence."""
from __future__ import annotations

from collections.abc import Sequence

from qa.config import ChunkConfig
from qa.types import Chunk, Span


def chunk_document(
    doc_id: str, text: str, sentences: Sequence[Span], config: ChunkConfig = ChunkConfig()
) -> list[Chunk]:
    """Pack consecutive sentences into chunks of about ``config.size`` characters.

    Each chunk after the first starts with the trailing sentences of the previous one, up to
    ``config.overlap`` characters. A sentence longer than ``size`` becomes a chunk of its own.

    Example:
        >>> text = "One. Two. Three."
        >>> [c.text for c in chunk_document("d", text, [Span(0, 4), Span(5, 9), Span(10, 16)],
        ...                                ChunkConfig(size=50, overlap=0))]
        ['One. Two. Three.']
    """
    sents = [s for s in sentences if s.end > s.start]
    if not sents:
        stripped = text.strip()
        if not stripped:
            return []
        start = text.index(stripped[0])
        sents = [Span(start, start + len(stripped))]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1].end - sents[i].start <= config.size:
            j += 1
        start, end = sents[i].start, sents[j].end
        chunks.append(Chunk(doc_id, text[start:end], start, end))
        if j + 1 >= len(sents):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        k = j + 1
        while k - 1 > i and sents[j].end - sents[k - 1].start <= config.overlap:
            k -= 1
        i = k
    return chunks
