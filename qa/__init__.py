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
from qa.labels import Label  # noqa: E402
from qa.types import Answer, Chunk, Document, Hit, Passage, Reply, Span  # noqa: E402

_LAZY = {
    "Retriever": "qa.retriever", "Assistant": "qa.assistant", "RuleReader": "qa.rules",
    "ReaderWeights": "qa.rules", "SimpleCorpus": "qa.corpus", "CorpusView": "qa.corpus",
}


def __getattr__(name: str):
    # The retriever and assistant pull in torch, faiss and spaCy; importing them lazily keeps
    # `import qa` (and `qa --help`) fast for users who only need the data types.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Assistant",
    "Chunk",
    "CorpusView",
    "ChunkConfig",
    "CorpusError",
    "Document",
    "Hit",
    "IndexError_",
    "InputError",
    "Label",
    "Passage",
    "QAError",
    "ReaderConfig",
    "ReaderWeights",
    "Reply",
    "Retriever",
    "RetrieverConfig",
    "RuleReader",
    "SimpleCorpus",
    "Span",
    "__version__",
]
