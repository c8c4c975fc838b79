"""The model reader: the span model trained here (the default), or any transformers QA model.

It reads the top passages in one batch, each at the length it needs, and takes the best span
of every window with the window's null score (``[CLS]``, SQuAD v2 style). Raw start+end logits
are compared across passages, never a per-passage softmax, so the best span of a passage that
does not hold the answer cannot look certain, and a SQuAD v2 model abstains as it was trained to.

Confidence is a logistic function of the span's margin over the null answer, its passage's
retrieval rank and how many passages agree on it; its weights were fitted on held-out articles of
the training file (``qa.calibration``) and ship in the model's ``reader.json``.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.labels import Label
from qa.answers import span_answer
from qa.config import ReaderConfig
from qa.lru import LRU
from qa.span_model import (
    META_FILE, SHIPPED_MODEL_DIR, PairTokenizer, SpanGuess, base_model_dir, best_span, is_shipped_form,
    load_model, pad_batch, read_info, windows,
)
from qa.types import Answer, Document, Explanation, Hit, Span

log = logging.getLogger(__name__)

GUESS_CACHE = 512  # (question, passage) pairs: a few conversations' worth, a few KB each

FEATURES = ("margin", "top_margin", "retrieval_rank", "support", "dense", "type_fit", "verifier")
# Question kinds whose answer is a named entity of a known type: a span of another entity type
# is evidence against it. Other kinds (description, thing, reason) accept any span.
TYPED_KINDS = {"person", "organisation", "date", "number", "place"}


@dataclass(frozen=True)
class Confidence:
    """Logistic confidence over a span's evidence; fitted weights live in the model's reader.json.

    Features of a span: ``margin`` (its start+end logit over its window's null score),
    ``top_margin`` (the best margin of the question, whichever span has it), ``retrieval_rank``
    (log(1 + rank) of its passage), ``support`` (log of how many windows chose the same text)
    and ``dense`` (the passage's embedding similarity to the question). The default is a plain
    sigmoid of the margin, for models that carry no fitted weights.
    """

    weights: tuple[tuple[str, float], ...] = (("margin", 1.0),)
    bias: float = 0.0
    threshold: float = 0.5

    @classmethod
    def from_json(cls, data: dict) -> "Confidence":
        return cls(tuple((k, float(v)) for k, v in data["weights"].items() if k in FEATURES),
                   float(data["bias"]), float(data["threshold"]))

    def to_json(self) -> dict:
        return {"weights": dict(self.weights), "bias": self.bias, "threshold": self.threshold}

    def terms(self, feats: dict[str, float]) -> dict[str, float]:
        return {k: w * feats.get(k, 0.0) for k, w in self.weights}

    def probability(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(self.terms(feats).values())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def type_fit(kind: str, expected: frozenset[str], label: Label | None) -> float:
    """+1 when the span's entity type is one the question asks for, -1 when a typed question
    ("Who ...?", "When ...?") gets an entity of another type, 0 when nothing is known."""
    if label is None:
        return 0.0
    if label in expected:
        return 1.0
    if kind in TYPED_KINDS:
        return -1.0
    return 0.0


def span_features(g: SpanGuess, top_margin: float, support: int, hit: Hit, fit: float = 0.0) -> dict[str, float]:
    return {
        "verifier": g.verifier,
        "type_fit": fit,
        "margin": g.margin,
        "top_margin": top_margin,
        "retrieval_rank": math.log(max(1, hit.rank)),
        "support": math.log(max(1, support)),
        "dense": float(hit.dense_score or 0.0),
    }


def entity_label(annotation, span: Span) -> Label | None:
    """The entity type of a span (spaCy's, stored at index time) when the span is mostly one
    entity; follow-ups use it ("he" refers to a PERSON). ``None`` otherwise."""
    best, best_overlap = None, 0
    for e in getattr(annotation, "entities", ()):
        overlap = min(e.end, span.end) - max(e.start, span.start)
        if overlap > best_overlap and overlap >= 0.6 * max(len(span), e.end - e.start):
            best, best_overlap = Label.parse(e.label), overlap
    return best


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that starts or ends inside a word (a word piece: "genera|tive") to the
    whole word; an answer is never part of a word."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


def sentence_around(annotation, span: Span) -> Span | None:
    """The stored sentence(s) holding a span, for the answer card; ``None`` if unknown."""
    sents = [x for x in getattr(annotation, "sentences", ()) if x.start < span.end and span.start < x.end]
    return Span(sents[0].start, sents[-1].end) if sents else None


def quantize(model):
    """Linear layers in int8 (torch's dynamic quantisation), for a model run by torch: a
    transformers model, or the shipped one when ONNX Runtime cannot run it."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks its eager int8 path as deprecated
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class ModelReader:
    """Reads spans with a span model: the shipped one, or a transformers QA model by name.

    Example:
        >>> reader = ModelReader(retriever.documents)            # the model trained here
        >>> answers = reader.read("Who founded 01.AI?", retriever.search("Who founded 01.AI?"))
        >>> answers[0].text
        'Kai-Fu Lee'
    """

    name = "trained"

    def __init__(
        self, documents: dict[str, Document], config: ReaderConfig | None = None,
        model: str | Path | None = None, annotations: dict | None = None,
    ) -> None:
        self.documents = documents
        self.annotations = annotations or {}
        self.config = config or ReaderConfig()
        source = model or self.config.model or SHIPPED_MODEL_DIR
        self.model_name = str(source)
        self.confidence = Confidence()
        self.verifier: tuple[np.ndarray, float] | None = None
        self.combination = None  # the combined reader's weights, when fitted for this model
        self.stage_exits: dict[int, float] = {}  # the combined reader's exit points, likewise
        self.stage_give_up: dict[int, float] = {}  # and the points below which it stops reading
        self.length_penalty = 0.0  # per token, when choosing a window's span (reader.json)
        self.model, self._onnx = None, None
        self._guess_cache = LRU(GUESS_CACHE)
        if is_shipped_form(source):
            self._load_shipped(Path(source))
        else:
            self._load_transformers(source)
        self.default_threshold = self.confidence.threshold

    def _load_shipped(self, source: Path) -> None:
        """The model trained here. Its ONNX graph, once cached, loads without torch or the
        weights (well under a second); otherwise the torch model is built and exported."""
        import os

        info = read_info(source)
        self.tokenizer = PairTokenizer()
        if info.get("confidence"):
            self.confidence = Confidence.from_json(info["confidence"])
        if info.get("combination"):
            from qa.combined import Combination

            self.combination = Combination.from_json(info["combination"])
        if info.get("stages"):
            self.stage_exits = {int(n): float(t) for n, t in info["stages"]["exit"].items()}
            self.stage_give_up = {int(n): float(t) for n, t in info["stages"].get("give_up", {}).items()}
        self.length_penalty = float(info.get("decoding", {}).get("length_penalty", 0.0))
        if info.get("verifier"):
            v = info["verifier"]
            self.verifier = (np.asarray(v["weights"], dtype=np.float32), float(v["bias"]))
        onnx = os.environ.get("QA_READER_BACKEND", "auto") != "torch"
        graph = None
        try:
            from qa.onnx_models import OnnxSpanModel, reader_graph

            graph = reader_graph(source, base_model_dir() / "model.safetensors")
            if onnx and graph.exists():
                self._onnx = self._onnx_model(OnnxSpanModel, graph)
                return
        except Exception as exc:  # no onnxruntime, an unreadable cached graph...
            log.warning("cached ONNX reader unusable (%s: %s); loading the torch model",
                        type(exc).__name__, exc)
        self.model, _ = load_model(source)
        if onnx and graph is not None:
            try:
                OnnxSpanModel.export(self.model, graph)
                self._onnx = self._onnx_model(OnnxSpanModel, graph)
                self.model = None  # the torch weights were needed only to export the graph
                return
            except Exception as exc:  # no onnxruntime, export failed, read-only cache...
                log.warning("reader model on torch: ONNX Runtime unavailable (%s: %s)",
                            type(exc).__name__, exc)
        if self.config.quantize:
            self.model = quantize(self.model)

    def _onnx_model(self, cls, graph: Path):
        """The fp32 graph, or its int8 form when the config asks for it."""
        if self.config.quantize:
            from qa.onnx_models import int8_graph

            graph = int8_graph(graph)
        return cls(graph)

    def _load_transformers(self, source) -> None:
        """Any transformers QA model, by hub name or folder, run by torch."""
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.name = "transformers"
        self.tokenizer = AutoTokenizer.from_pretrained(str(source))
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError(f"{source}: a fast tokenizer is needed for character offsets")
        self.model = AutoModelForQuestionAnswering.from_pretrained(str(source))
        self.model.eval()
        calib = Path(str(source)) / META_FILE
        if calib.is_file():
            data = json.loads(calib.read_text()).get("confidence")
            if data:
                self.confidence = Confidence.from_json(data)
        if self.config.quantize:
            self.model = quantize(self.model)

    def guesses(self, question: str, hits: Sequence[Hit]) -> list[SpanGuess]:
        """The best span of every window of the top passages: the passages not read yet for
        this question in one batch, one model pass. Passages already read for it (the first
        stage of a staged read, an earlier turn answered again for a follow-up) come from a
        small cache: a guess depends only on the question and the passage's text."""
        texts = [h.chunk.text for h in hits]
        found = {i: g for i, t in enumerate(texts) if (g := self._guess_cache.get((question, t))) is not None}
        todo = [i for i in range(len(texts)) if i not in found]
        if todo:
            fresh = self._forward(question, [texts[i] for i in todo])[0]
            for j, i in enumerate(todo):
                found[i] = tuple(dataclasses.replace(g, passage=0) for g in fresh if g.passage == j)
                self._guess_cache.put((question, texts[i]), found[i])
        return [dataclasses.replace(g, passage=i) for i in range(len(texts)) for g in found[i]]

    def clear_cache(self) -> None:
        """Forget the passages read so far (benchmarks time every question cold)."""
        self._guess_cache.clear()

    def cls_vectors(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """The encoder's [CLS] vector of each passage's first window (the answerability head's
        input; qa.calibration fits the head on them)."""
        guesses, cls, ws = self._forward(question, passages)
        first = {}
        for i, w in enumerate(ws):
            first.setdefault(w.passage, i)
        return np.stack([cls[first[p]] for p in range(len(passages))])

    def _forward(self, question: str, passages: Sequence[str]):
        ws = windows(self.tokenizer, question, list(passages),
                     max_length=self.config.max_tokens, stride=self.config.max_tokens // 3)
        if not ws:
            return [], np.zeros((0, 0), dtype=np.float32), ws
        arrays = pad_batch(ws)
        if not any(w.token_type_ids for w in ws):
            arrays.pop("token_type_ids")
        if self._onnx is not None:
            s, e, cls = self._onnx.run(arrays)
        else:
            import torch

            with torch.inference_mode():
                out = self.model(**{k: torch.from_numpy(v) for k, v in arrays.items()},
                                 output_hidden_states=True)
            s = out.start_logits.float().numpy()
            e = out.end_logits.float().numpy()
            cls = out.hidden_states[-1][:, 0, :].float().numpy()
        ver = cls @ self.verifier[0] + self.verifier[1] if self.verifier else np.zeros(len(ws))
        max_tokens = max(8, self.config.max_answer_chars // 3)
        guesses = []
        for i, w in enumerate(ws):
            g = best_span(w, s[i], e[i], max_tokens, length_penalty=self.length_penalty)
            if g is not None:
                guesses.append(dataclasses.replace(g, verifier=float(ver[i])))
        return guesses, cls, ws

    def read(self, question, hits: Sequence[Hit], passages: int | None = None) -> list[Answer]:
        """One answer per window's best span, best first; ``score`` is the calibrated confidence.
        Reads the first ``passages`` hits (the config's number by default)."""
        from qa.question import analyze

        q = question if hasattr(question, "expected") else analyze(str(question))
        text = q.text
        hits = list(hits)[: passages or self.config.passages]
        if not hits or not str(text).strip():
            return []
        guesses = self.guesses(str(text), hits)
        if not guesses:
            return []
        from qa.metrics import normalize_answer

        top_margin = max(g.margin for g in guesses)
        cuts = [snap_to_words(hits[g.passage].chunk.text, g.start, g.end) for g in guesses]
        keys = [normalize_answer(hits[g.passage].chunk.text[a:b]) for g, (a, b) in zip(guesses, cuts)]
        support = {k: keys.count(k) for k in keys}
        out = []
        for g, key, (a, b) in zip(guesses, keys, cuts):
            hit = hits[g.passage]
            doc = self.documents[hit.chunk.doc_id]
            span = Span(hit.chunk.start + a, hit.chunk.start + b)
            label = entity_label(self.annotations.get(doc.doc_id), span)
            feats = span_features(g, top_margin, support[key], hit, type_fit(q.kind, q.expected, label))
            conf = self.confidence.probability(feats)
            why = Explanation(
                self.name,
                features=(*feats.items(), ("span_logit", g.score), ("null_logit", g.null_score)),
                terms=(("bias", self.confidence.bias), *self.confidence.terms(feats).items()),
            )
            sent = sentence_around(self.annotations.get(doc.doc_id), span) or Span(hit.chunk.start, hit.chunk.end)
            out.append(span_answer(
                doc.text[span.start : span.end], doc.doc_id, span, hit, title=doc.title,
                score=conf, rank_score=conf, sentence=doc.text[sent.start : sent.end],
                sentence_span=sent,
                answer_type=label,
                explanation=why,
            ))
        out.sort(key=lambda a: -a.score)
        return out

