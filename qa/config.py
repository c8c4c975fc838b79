"""Frozen configuration dataclasses, one per component, saved as JSON with the index."""
from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from qa.errors import InputError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class _ParseEnum(str, enum.Enum):
    @classmethod
    def parse(cls, value: "str | _ParseEnum") -> Any:
        """Parse a value, with an error that lists the valid choices."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            raise InputError(f"unknown {cls.__name__} {value!r}; valid values: {valid}") from None


class SearchMode(_ParseEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


class ReaderKind(_ParseEnum):
    TRAINED = "trained"
    COMBINED = "combined"
    RULES = "rules"


class FusionMethod(_ParseEnum):
    RRF = "rrf"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into passages.

    Attributes:
        size: target chunk length in characters; a chunk never cuts a sentence, so a single
            long sentence may exceed it.
        overlap: characters of trailing sentences repeated at the start of the next chunk.
    """

    size: int = 400
    overlap: int = 100

    def __post_init__(self) -> None:
        if self.size < 50:
            raise InputError(f"chunk size must be at least 50 characters, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise InputError(
                f"chunk overlap must be between 0 and size-1 ({self.size - 1}), got {self.overlap}"
            )


# Dense search: "exact" (a flat scan), "ivf" (approximate, nprobe lists searched) or "auto":
# exact until the corpus passes qa.dense.AUTO_IVF_VECTORS chunks. nprobe None: half the IVF
# lists, at most 512 (qa.dense.auto_nprobe).
# BM25 engines: rank-bm25 (reference, in memory), tantivy (on disk, for large corpora), or
# "auto": rank-bm25 until the corpus passes qa.lexical.AUTO_TANTIVY_CHUNKS chunks.
LEXICAL_ENGINES = ("auto", "rank-bm25", "tantivy")
# "embedded": BM25 and FAISS in the index folder; "milvus": search in a Milvus collection
# (qa.milvus_backend), the index folder keeps documents, annotations and chunks.
BACKENDS = ("embedded", "milvus")


@dataclass(frozen=True)
class RetrieverConfig:
    """Retrieval settings. Changing any field that affects the index triggers a rebuild."""

    chunk: ChunkConfig = ChunkConfig()
    model: str = DEFAULT_MODEL
    mode: SearchMode = SearchMode.HYBRID
    fusion: FusionMethod = FusionMethod.WEIGHTED
    dense_weight: float = 0.5
    rrf_k: int = 60
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    batch_size: int = 32
    lexical: str = "auto"
    dense_index: str = "auto"
    nprobe: int | None = None
    backend: str = "embedded"
    uri: str | None = None
    collection: str = "qa_chunks"

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", SearchMode.parse(self.mode))
        if self.backend not in BACKENDS:
            raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.backend == "milvus" and not self.uri:
            raise InputError("the milvus backend needs a URI: RetrieverConfig(backend='milvus', "
                             "uri='http://127.0.0.1:19530') or --uri")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,254}", self.collection):
            raise InputError(f"collection name must be letters, digits and _, got {self.collection!r}")
        object.__setattr__(self, "fusion", FusionMethod.parse(self.fusion))
        if isinstance(self.chunk, dict):
            object.__setattr__(self, "chunk", ChunkConfig(**self.chunk))
        if self.lexical not in LEXICAL_ENGINES:
            raise InputError(
                f"lexical engine must be one of {', '.join(LEXICAL_ENGINES)}, got {self.lexical!r}")
        if self.dense_index not in ("auto", "exact", "ivf"):
            raise InputError(f"dense_index must be auto, exact or ivf, got {self.dense_index!r}")
        if self.nprobe is not None and (not isinstance(self.nprobe, int) or self.nprobe < 1):
            raise InputError(f"nprobe must be a whole number >= 1, got {self.nprobe!r}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise InputError(f"dense_weight must be in [0, 1], got {self.dense_weight}")

    def index_key(self) -> dict[str, Any]:
        """The fields that shape the saved index; a change in any of them needs a rebuild."""
        from qa.tokens import TOKENIZER_VERSION

        return {
            "chunk": dataclasses.asdict(self.chunk),
            "model": self.model,
            "bm25_k1": self.bm25_k1,
            "bm25_b": self.bm25_b,
            "lexical": self.lexical,
            "dense_index": self.dense_index,
            "tokenizer": TOKENIZER_VERSION,
            **({"backend": "milvus", "collection": self.collection} if self.backend == "milvus" else {}),
        }


@dataclass(frozen=True)
class ReaderConfig:
    """Answer extraction settings.

    Attributes:
        reader: ``combined`` (default): the span model trained here (``qa/reader_model``) and
            the rule reader, their candidates scored together; ``trained``: the span model
            alone; ``rules``: the rule reader that needs no model. The rule reader also answers
            when a model cannot be loaded (the reason is logged).
        model: optional name or folder of another span model for the ``trained`` reader: a
            transformers question-answering model (hub name or folder) or a folder written by
            ``qa train-reader``.
        abstain_threshold: answers whose confidence is below this are withheld ("not in the
            corpus"). ``None`` uses the reader's own calibrated threshold.
        max_tokens: longest model window in tokens; longer passages are read in overlapping
            windows.
        quantize: run the span model in int8: the shipped model on ONNX Runtime (per-channel
            dynamic quantisation, about 1.7x faster on 2 cores), other models with torch's
            dynamic quantisation. Off by default: it costs some quality (eval/README.md).
        passages: how many retrieved passages the reader looks at.
        stages: the combined reader reads this many passages first, then more, stage by stage
            (1, then 2, then 3, then all ``passages``), and stops after a stage whose best answer is
            confident enough (the exit points in the model's reader.json, ``stages.exit``);
            ``()`` always reads all ``passages`` at once.
        max_answer_chars: longest span the reader may return.
        dense_check: for "what X" questions, let the embedding model choose among the best few
            spans (the question with the span put in for "what", against its sentence). Costs
            one model pass of a few short texts for those questions only.
        spelling: correct misspelt question words against the corpus vocabulary
            (:mod:`qa.spelling`); the correction is shown in ``Reply.corrections``.
    """

    reader: ReaderKind = ReaderKind.COMBINED
    model: str | None = None
    abstain_threshold: float | None = None
    passages: int = 5
    stages: tuple[int, ...] = (1, 2, 3)
    max_tokens: int = 384
    quantize: bool = False
    max_answer_chars: int = 120
    dense_check: bool = True
    spelling: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "reader", ReaderKind.parse(self.reader))
        if self.passages < 1:
            raise InputError(f"passages must be at least 1, got {self.passages}")
        stages = self.stages
        if (not isinstance(stages, (tuple, list)) or any(isinstance(n, bool) or not isinstance(n, int) for n in stages)
                or any(n < 1 for n in stages) or list(stages) != sorted(set(stages))):
            raise InputError(f"stages must be increasing passage counts >= 1, such as (1, 2), or () to read "
                             f"all passages at once; got {stages!r}")
        object.__setattr__(self, "stages", tuple(stages))
        if not 32 <= self.max_tokens <= 512:
            raise InputError(f"max_tokens must be between 32 and 512, got {self.max_tokens}")


T = TypeVar("T")


def to_json(cfg: Any) -> dict[str, Any]:
    """Serialise a config dataclass (enums as their values)."""
    out = dataclasses.asdict(cfg)

    def fix(v: Any) -> Any:
        if isinstance(v, enum.Enum):
            return v.value
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v

    return fix(out)


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """Read a config dataclass back, ignoring unknown keys from newer versions."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
