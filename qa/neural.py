"""Optional neural reader on a transformers extractive question-answering model.

No such model ships offline here, so the user names one (a hub name or a local folder). When it
cannot be loaded, :func:`load_reader` logs why and returns the built-in reader instead.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

from qa.config import ReaderConfig
from qa.metrics import normalize_answer
from qa.types import Answer, Document, Hit, Passage, Span

log = logging.getLogger(__name__)


class NeuralReader:
    """Reads spans with a ``transformers`` question-answering model.

    Example:
        >>> reader = NeuralReader("deepset/roberta-base-squad2", documents)
        >>> reader.read("Who founded 01.AI?", hits)[0].text
    """

    name = "neural"

    def __init__(
        self, model: str, documents: dict[str, Document], config: ReaderConfig | None = None
    ) -> None:
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        self.model_name = model
        self.documents = documents
        self.config = config or ReaderConfig()
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError(f"{model}: a fast tokenizer is needed for character offsets")
        self.model = AutoModelForQuestionAnswering.from_pretrained(model)
        self.model.eval()
        self._torch = torch

    def read(self, question: str, hits: Sequence[Hit]) -> list[Answer]:
        """Best span per passage, scored by the model's start/end probability."""
        torch = self._torch
        question = getattr(question, "text", question)  # a qa.question.Question or a string
        hits = list(hits)[: self.config.passages]
        if not hits:
            return []
        enc = self.tokenizer(
            [question] * len(hits),
            [h.chunk.text for h in hits],
            truncation="only_second",
            max_length=384,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping")
        with torch.no_grad():
            out = self.model(**{k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")})
        groups: dict[str, list[tuple[float, Hit, Span]]] = {}
        for i, hit in enumerate(hits):
            seq = enc.sequence_ids(i)
            start_p = torch.softmax(out.start_logits[i], -1)
            end_p = torch.softmax(out.end_logits[i], -1)
            ctx = [j for j, s in enumerate(seq) if s == 1]
            if not ctx:
                continue
            best, best_score = None, 0.0
            top_s = torch.topk(start_p[ctx], min(10, len(ctx))).indices.tolist()
            top_e = torch.topk(end_p[ctx], min(10, len(ctx))).indices.tolist()
            for a in top_s:
                for b in top_e:
                    if b < a or b - a > 30:
                        continue
                    sc = float(start_p[ctx[a]] * end_p[ctx[b]])
                    if sc > best_score:
                        best, best_score = (ctx[a], ctx[b]), sc
            if best is None:
                continue
            c0 = int(offsets[i][best[0]][0])
            c1 = int(offsets[i][best[1]][1])
            if c1 <= c0:
                continue
            span = Span(hit.chunk.start + c0, hit.chunk.start + c1)
            text = self.documents[hit.chunk.doc_id].text[span.start : span.end]
            key = normalize_answer(text)
            if key:
                groups.setdefault(key, []).append((best_score, hit, span))
        answers = []
        for group in groups.values():
            group.sort(key=lambda g: -g[0])
            score, hit, span = group[0]
            doc = self.documents[hit.chunk.doc_id]
            passages = tuple(
                Passage.from_hit(h, (sp.shift(-h.chunk.start),), self.documents[h.chunk.doc_id].title)
                for _, h, sp in group
            )
            answers.append(
                Answer(
                    text=doc.text[span.start : span.end],
                    score=score,
                    doc_id=doc.doc_id,
                    span=span,
                    sentence=hit.chunk.text,
                    sentence_span=Span(hit.chunk.start, hit.chunk.end),
                    passages=passages,
                    sources=tuple(dict.fromkeys(h.chunk.doc_id for _, h, _ in group)),
                    answer_type="NEURAL",
                )
            )
        answers.sort(key=lambda a: -a.score)
        return answers
