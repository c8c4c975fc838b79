"""The default extractive reader: typed span selection over annotated sentences.

No question-answering model ships offline, so the reader works from what indexing stored:
sentences, named entities and noun chunks. For each sentence of the retrieved passages it
measures how much of the question the sentence (and its neighbour) covers, weighted by IDF,
then scores candidate spans in it by answer type, closeness to the question's words, and
how little they repeat the question. Answers that agree across documents are merged.
"""
from __future__ import annotations

import bisect
import dataclasses
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.annotate import Annotation
from qa.config import ReaderConfig
from qa.metrics import f1, normalize_answer
from qa.question import DESC, NUMBER, Question, analyze
from qa.tokens import tokenize, tokenize_spans
from qa.types import Answer, Chunk, Document, Hit, Passage, Span

log = logging.getLogger(__name__)

_QUOTE = re.compile(r"[“\"]([^”\"\n]{1,80})[”\"]")
_PROPN = re.compile(r"(?:[A-Z0-9][\w.&’'-]*[\w]|[A-Z])(?:\s+(?:[A-Z0-9][\w.&’'-]*[\w]|[A-Z]|of|and|&)){0,5}")
_SEG_SPLIT = re.compile(r"\s*(?:[,;:()\[\]]|\s[–—-]\s|\.\s)\s*")
_TRAIL = re.compile(r"(?:[’']s|[\s.,;:!?’'\"”“)(]|\b(?:and|of|the|in|on|at|by|for|to|or))+$")
_LEAD = re.compile(
    r"^(?:[\s,;:!?\"”“(]|(?:and|or|but|which|who|that|as|while|on|in|of|for|to|by|with|at|"
    r"about|from|into|is|are|was|were|be|been)\b\s*)+",
    re.I,
)
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday",
}
_ENTITY_LABELS = {
    "PERSON", "ORG", "NORP", "FAC", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
    "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL",
}


@dataclass(frozen=True)
class Candidate:
    doc_id: str
    span: Span
    label: str
    sentence: Span
    score: float
    hit: Hit


@dataclass(frozen=True)
class _Sentence:
    doc_id: str
    span: Span
    terms: frozenset[str]
    token_pos: tuple[tuple[str, int], ...]  # (term, char offset in document)


class Reader:
    """Extracts ranked answers from retrieved hits.

    Example:
        >>> reader = Reader(retriever.documents, retriever.annotations, retriever.lexical.idf)
        >>> reader.read("Who founded 01.AI?", retriever.search("Who founded 01.AI?"))[0].text
        'Lee Kai-fu'
    """

    name = "heuristic"

    def __init__(
        self,
        documents: dict[str, Document],
        annotations: dict[str, Annotation],
        idf,
        config: ReaderConfig | None = None,
        doc_fraction=None,
    ) -> None:
        self.documents = documents
        self.annotations = annotations
        self.idf = idf
        self.doc_fraction = doc_fraction or (lambda term: 0.0)
        self.config = config or ReaderConfig()
        self._sent_cache: dict[tuple[str, int], _Sentence] = {}

    # ----- stored annotations -------------------------------------------------------------------
    def _sentence(self, doc_id: str, span: Span) -> _Sentence:
        key = (doc_id, span.start)
        s = self._sent_cache.get(key)
        if s is None:
            text = self.documents[doc_id].text[span.start : span.end]
            toks = tokenize_spans(text)
            s = _Sentence(
                doc_id,
                span,
                frozenset(t.term for t in toks),
                tuple((t.term, span.start + t.start) for t in toks),
            )
            if len(self._sent_cache) > 200_000:
                self._sent_cache.clear()
            self._sent_cache[key] = s
        return s

    def _sentences_in(self, chunk: Chunk) -> list[int]:
        sents = self.annotations[chunk.doc_id].sentences
        lo = bisect.bisect_left(sents, Span(chunk.start, chunk.start))
        out = []
        for i in range(lo, len(sents)):
            if sents[i].start >= chunk.end:
                break
            out.append(i)
        return out

    # ----- reading ------------------------------------------------------------------------------
    def read(self, question: str | Question, hits: Sequence[Hit]) -> list[Answer]:
        """Ranked answers (best first), agreement-merged. Empty when nothing fits."""
        q = question if isinstance(question, Question) else analyze(question)
        hits = list(hits)[: self.config.passages]
        if not hits or not q.terms:
            return []
        weights = {t: self.idf(t) for t in set(q.terms)}
        total = sum(weights.values())
        top_hit = max(h.score for h in hits) or 1.0
        cands: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for hit in hits:
            doc_id = hit.chunk.doc_id
            sents = self.annotations[doc_id].sentences
            for i in self._sentences_in(hit.chunk):
                if (doc_id, sents[i].start) in seen:
                    continue
                seen.add((doc_id, sents[i].start))
                cur = self._sentence(doc_id, sents[i])
                prev = self._sentence(doc_id, sents[i - 1]) if i > 0 else None
                nxt = self._sentence(doc_id, sents[i + 1]) if i + 1 < len(sents) else None
                cov_s = sum(w for t, w in weights.items() if t in cur.terms) / total
                window = cur.terms | (prev.terms if prev else frozenset()) | (
                    nxt.terms if nxt else frozenset()
                )
                cov_w = sum(w for t, w in weights.items() if t in window) / total
                if cov_w == 0:
                    continue
                rel = (0.7 * cov_s + 0.3 * cov_w) ** 1.5
                if q.focus:
                    near = cur.terms | (prev.terms if prev else frozenset())
                    frac = sum(1 for f in q.focus if f in near) / len(q.focus)
                    rel *= 0.35 + 0.65 * frac
                rel *= 0.85 + 0.15 * max(hit.score, 0.0) / top_hit if top_hit > 0 else 1.0
                cands.extend(self._candidates(q, cur, rel, hit))
        return self._merge(cands, hits)

    def _candidates(self, q: Question, sent: _Sentence, rel: float, hit: Hit) -> list[Candidate]:
        doc = self.documents[sent.doc_id]
        text = doc.text
        spans: dict[tuple[int, int], str] = {}

        qterms = set(q.terms)

        def add(start: int, end: int, label: str) -> None:
            # Trim separators and the question's own words from both edges, so that
            # "Baidu's Ernie Bot" answers "Which Baidu chatbot ...?" with "Ernie Bot".
            for _ in range(6):
                before = (start, end)
                lead = _LEAD.match(text[start:end])
                if lead:
                    start += lead.end()
                trail = _TRAIL.search(text[start:end])
                if trail:
                    end = start + trail.start()
                toks = tokenize_spans(text[start:end])
                if toks and toks[0].term in qterms and toks[0].start == 0 and len(toks) > 1:
                    start += toks[1].start
                elif toks and toks[-1].term in qterms and len(toks) > 1:
                    end = start + toks[-2].end
                if (start, end) == before:
                    break
            if end - start < 1 or end - start > self.config.max_answer_chars:
                return
            key = (start, end)
            # An entity label is more specific than a noun chunk or segment over the same text.
            if key not in spans or spans[key] in ("NP", "SEG", "PROPN"):
                spans[key] = label

        s0, s1 = sent.span.start, sent.span.end
        ann = self.annotations[sent.doc_id]
        for e in ann.entities:
            if e.start >= s0 and e.end <= s1 and e.label in _ENTITY_LABELS:
                add(e.start, e.end, e.label)
        stext = text[s0:s1]
        for m in _QUOTE.finditer(stext):
            add(s0 + m.start(1), s0 + m.end(1), "QUOTE")
        for m in _PROPN.finditer(stext):
            word = m.group()
            if m.start() == 0 and " " not in word and word[1:].islower():
                continue  # a capitalised first word of the sentence, not a name
            if word.replace(".", "").replace(",", "").isdigit() or word.lower() in _MONTHS:
                continue
            add(s0 + m.start(), s0 + m.end(), "PROPN")
        wants_desc = bool(q.expected & DESC)
        if wants_desc or q.expected & NUMBER:
            lo = bisect.bisect_left(ann.noun_chunks, Span(s0, s0))
            for nc in ann.noun_chunks[lo:]:
                if nc.start >= s1:
                    break
                if nc.end <= s1:
                    add(nc.start, nc.end, "NP")
        if wants_desc:
            pos = 0
            for m in _SEG_SPLIT.finditer(stext + ","):
                if m.start() > pos:
                    add(s0 + pos, s0 + m.start(), "SEG")
                pos = m.end()
            # The words right after the question's last matched word ("known for ___",
            # "Guo Tao, ___,") and right before its first ("___ XinYi Tech").
            matched = [p for t, p in sent.token_pos if t in qterms]
            if matched:
                after = max(matched)
                word = re.match(r"[\w.’'-]+", text[after:s1])
                rest = after + (word.end() if word else 0)
                rest += len(text[rest:s1]) - len(text[rest:s1].lstrip(" ,;:–—-(\"“”"))
                stop = _SEG_SPLIT.search(text[rest:s1] + ",")
                if stop and stop.start() > 0:
                    add(rest, rest + stop.start(), "ANCHOR")
                first = min(matched)
                head = text[s0:first]
                cut = max((m.end() for m in _SEG_SPLIT.finditer(head)), default=0)
                if first - (s0 + cut) > 2:
                    add(s0 + cut, first, "ANCHOR")

        positions: dict[str, list[int]] = {}
        for t, p in sent.token_pos:
            if t in qterms:
                positions.setdefault(t, []).append(p)
        pweight = {t: self.idf(t) for t in positions}
        psum = sum(pweight.values())
        out = []
        for (start, end), label in spans.items():
            cterms = tokenize(text[start:end])
            if cterms:
                overlap = sum(1 for t in cterms if t in qterms) / len(cterms)
            else:
                overlap = 0.0
                if not any(ch.isdigit() for ch in text[start:end]):
                    continue
            if overlap >= 0.999:
                continue  # repeats the question
            tscore = self._type_score(q, label, text[start:end])
            if tscore <= 0:
                continue
            if positions:
                # IDF-weighted closeness to each matched question word: near the rare words
                # ("founded", "01.AI") matters more than near common ones ("AI").
                prox = 0.0
                for t, ps in positions.items():
                    d = min((start - p) if p < start else max(p - end, 0) for p in ps)
                    prox += pweight[t] / (1.0 + d / 25.0)
                prox /= psum
            else:
                prox = 0.3
            if cterms and min(self.doc_fraction(t) for t in cterms) > 0.2:
                tscore *= 0.4  # "AI", "LLMs": words all over the corpus are rarely the answer
            nw = len(text[start:end].split())
            length = 1.0 if nw <= (12 if label in ("SEG", "NP", "QUOTE") else 6) else 0.8
            score = rel * (0.3 + 0.5 * tscore + 0.2 * prox) * (1 - 0.6 * overlap) * length
            out.append(Candidate(sent.doc_id, Span(start, end), label, sent.span, score, hit))
        return out

    @staticmethod
    def _type_score(q: Question, label: str, text: str) -> float:
        if label in q.primary and label != "DESC":
            return 1.0
        if DESC <= q.expected:
            return {"ANCHOR": 1.0, "QUOTE": 0.85, "NP": 0.6, "SEG": 0.6}.get(label, 0.3)
        if label == "NORP":
            return 0.3
        if label in q.expected:
            return 0.7
        if q.expected & NUMBER:
            return 0.4 if label == "NP" and any(c.isdigit() for c in text) else 0.0
        if label == "PROPN":
            return 0.5
        if label in ("QUOTE",) and "PRODUCT" in q.expected:
            return 0.9
        return 0.0

    def _merge(self, cands: list[Candidate], hits: Sequence[Hit]) -> list[Answer]:
        groups: dict[str, list[Candidate]] = {}
        for c in cands:
            key = normalize_answer(self.documents[c.doc_id].text[c.span.start : c.span.end])
            if key:
                groups.setdefault(key, []).append(c)
        answers = []
        for key, group in groups.items():
            group.sort(key=lambda c: -c.score)
            best = group[0]
            by_doc: dict[str, Candidate] = {}
            for c in group:
                if c.score >= 0.5 * best.score and c.doc_id not in by_doc:
                    by_doc[c.doc_id] = c
            score = min(1.0, best.score * (1 + 0.05 * (len(by_doc) - 1)))
            answers.append(self._answer(best, list(by_doc.values()), score, hits))
        answers.sort(key=lambda a: (-a.score, len(a.text)))
        return _merge_agreeing(answers)

    def _answer(
        self, best: Candidate, support: list[Candidate], score: float, hits: Sequence[Hit]
    ) -> Answer:
        doc = self.documents[best.doc_id]
        passages = [
            Passage.from_hit(
                c.hit, (c.span.shift(-c.hit.chunk.start),), self.documents[c.doc_id].title
            )
            for c in support
        ]
        return Answer(
            text=doc.text[best.span.start : best.span.end],
            score=score,
            doc_id=best.doc_id,
            span=best.span,
            sentence=doc.text[best.sentence.start : best.sentence.end],
            sentence_span=best.sentence,
            passages=tuple(passages),
            sources=tuple(c.doc_id for c in support),
            answer_type=best.label,
        )


def _merge_agreeing(answers: list[Answer]) -> list[Answer]:
    """Fold answers from other documents that say nearly the same thing ("over 100 million"
    and "100 million") into the better-scored one, citing every source."""
    merged: list[Answer] = []
    for a in answers:
        for i, m in enumerate(merged):
            new_docs = [d for d in a.sources if d not in m.sources]
            if new_docs and f1(a.text, m.text) >= 0.66:
                extra = tuple(p for p in a.passages if p.doc_id in new_docs)
                merged[i] = dataclasses.replace(
                    m,
                    sources=m.sources + tuple(new_docs),
                    passages=m.passages + extra,
                    score=min(1.0, m.score * (1 + 0.05 * len(new_docs))),
                )
                break
        else:
            merged.append(a)
    merged.sort(key=lambda a: (-a.score, len(a.text)))
    return merged
