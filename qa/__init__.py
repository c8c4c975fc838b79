"""Extractive question answering over a document corpus.

Example:
    >>> from qa import Retriever
    >>> retriever = Retriever.from_folder("seeds")
    >>> hits = retriever.search("Who founded 01.AI?", k=3)
    >>> hits[0].chunk.doc_id
    '000_efa03a2983bcb19c'
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qa")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

from qa.config import ChunkConfig, ReaderConfig, RetrieverConfig  # noqa: E402
from qa.errors import (  # noqa: E402
    CorpusError,
    IndexError_,
    InputError,
    QAError,
)
from qa.types import Answer, Chunk, Document, Hit, Passage, Reply, Span  # noqa: E402


def __getattr__(name: str):
    # The retriever and assistant pull in torch, faiss and spaCy; importing them lazily keeps
    # `import qa` (and `qa --help`) fast for users who only need the data types.
    if name == "Retriever":
        from qa.retriever import Retriever

        return Retriever
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Assistant",
    "Chunk",
    "ChunkConfig",
    "CorpusError",
    "Document",
    "Hit",
    "IndexError_",
    "InputError",
    "Passage",
    "QAError",
    "ReaderConfig",
    "Reply",
    "Retriever",
    "RetrieverConfig",
    "Span",
    "__version__",
]
