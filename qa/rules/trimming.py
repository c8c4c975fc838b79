"""Span trimming: from a proposed span to the answer it stands for, or to nothing.

Proposals come with separators, function words and the question's own words at their edges
("Baidu's Ernie Bot" for "Which Baidu chatbot ...?"). Trimming removes them, refuses spans
that cut a word or only repeat a name asked about, and relabels what is left of a phrase
around the question's words as a description of it (APPOS). A pure function of the sentence
and the question.
"""
from __future__ import annotations

from dataclasses import dataclass

from qa.labels import Label
from qa.question import Question
from qa.rules.patterns import LEAD, POSSESSIVE, TRAIL, WORDISH
from qa.rules.sentence import Sentence
from qa.tokens import tokenize_spans

_MAX_ROUNDS = 8  # each round strips one layer; real spans need two or three
_NEIGHBOUR_CHARS = 40  # how far to look for a question name beside the span
# Labels that may keep what is left of the very name asked about ("[Robin Li] Yanhong" is no
# answer to "Who is Robin Li?", but a phrase around the name may still describe it).
_MAY_REST_ON_NAME = frozenset({Label.NP, Label.SEG, Label.ANCHOR, Label.GAP, Label.QUOTE})


@dataclass(frozen=True)
class Proposal:
    """A span a generator proposes. ``placed_from`` is where closeness to the question's words is
    measured from, when the span was cut out of a longer phrase that starts there."""

    start: int
    end: int
    label: Label
    placed_from: int | None = None


@dataclass(frozen=True)
class Trimmed:
    start: int
    end: int
    label: Label


def trim(sentence: Sentence, p: Proposal, q: Question, max_chars: int) -> Trimmed | None:
    """The trimmed span and its (possibly changed) label, or ``None`` when nothing is left."""
    text, s1 = sentence.doc_text, sentence.span.end
    s0 = sentence.span.start
    qterms, focus = set(q.terms), set(q.focus)
    label = p.label
    start, end = sentence.snap(p.start, p.end)
    # A phrase right before or after a name from the question describes it.
    nxt = tokenize_spans(text[end : min(end + _NEIGHBOUR_CHARS, s1)])
    prv = tokenize_spans(text[max(start - _NEIGHBOUR_CHARS, s0) : start])
    beside_focus = bool(nxt and nxt[0].term in focus) or bool(prv and prv[-1].term in focus)
    trimmed_focus = trimmed = name_rest = False
    for _ in range(_MAX_ROUNDS):
        before = (start, end)
        lead = LEAD.match(text[start:end])
        if lead:
            start += lead.end()
        trail = TRAIL.search(text[start:end])
        if trail:
            end = start + trail.start()
        toks = tokenize_spans(text[start:end])
        if len(toks) > 1 and toks[0].term in qterms and toks[0].start == 0:
            trimmed_focus |= toks[0].term in focus
            # "Baidu's Ernie Bot" names another thing than Baidu; "Robin Li Yanhong" does not.
            name_rest |= toks[0].term in focus and not POSSESSIVE.search(
                text[start + toks[0].start : start + toks[1].start]
            )
            trimmed = True
            start += toks[1].start
        elif len(toks) > 1 and toks[-1].term in qterms:
            trimmed_focus |= toks[-1].term in focus
            name_rest |= toks[-1].term in focus
            trimmed = True
            end = start + toks[-2].end
        if (start, end) == before:
            break
    if end - start < 1 or end - start > max_chars:
        return None
    # Never cut a word: "Start" out of "Start-up" is not a candidate.
    if start > 0 and WORDISH.match(text[start - 1]) and WORDISH.match(text[start]):
        return None
    if end < len(text) and WORDISH.match(text[end]) and WORDISH.match(text[end - 1]):
        return None
    if name_rest and label not in _MAY_REST_ON_NAME:
        return None  # "[Robin Li] Yanhong": the rest of the very name asked about
    if label in (Label.ANCHOR, Label.APPOS) and text[start].isupper():
        return None  # descriptions are common nouns; a capitalised rest is part of a name
    if trimmed and label == Label.NP and not (trimmed_focus or beside_focus):
        return None  # "a particular [problem]": only the modifiers of a question word are left
    if (trimmed_focus or (trimmed and beside_focus)) and label == Label.NP and not text[start].isupper():
        # What is left of a phrase around the question's own words is a modifier of them:
        # "smartphone giant [Xiaomi]", "[Guo Tao], an angel investor".
        label = Label.APPOS
    return Trimmed(start, end, label)
