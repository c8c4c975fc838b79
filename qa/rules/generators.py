"""Candidate generators, by family. Each reads a :class:`Context` and returns proposals; none
keeps state, so they can run in any order and be tested on one hand-made sentence.

Families: names (entities, quotations, capitalised runs), lists of names, noun phrases,
reasons, segments, anchors (the words right after the question's words), places (the object
of a place preposition in an anchor phrase) and gaps (the words between the question's words).
:func:`propose` runs them all and trims every proposal (:mod:`qa.rules.trimming`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lemminflect import getAllLemmas

from qa.labels import NAME_LABELS, Label
from qa.question import DESC, NUMBER, REASON, THING
from qa.rules.patterns import (
    CAUSE, LIST_SEP, LOCATIVE, MONTHS, PP_CUT, PROPN, QUOTE, SEG_SPLIT, TIME_START, VERBISH,
    WORD_PREFIX, noun_or_name,
)
from qa.rules.sentence import Context
from qa.rules.trimming import Proposal, trim

# A question word in more than this share of documents ("AI", "LLMs") is followed by anything.
COMMON_WORD_FRACTION = 0.2
_MAX_GAP_WORDS = 6
_ANCHOR_LEAD = " ,;:–—-(\"“”"


def names(ctx: Context) -> list[Proposal]:
    """Named entities, quotations and runs of capitalised words."""
    s = ctx.sentence
    s0, stext = s.span.start, s.text
    out = [Proposal(e.start, e.end, Label(e.label)) for e in ctx.entities]
    out += [Proposal(s0 + m.start(1), s0 + m.end(1), Label.QUOTE) for m in QUOTE.finditer(stext)]
    for m in PROPN.finditer(stext):
        word = m.group()
        if m.start() == 0 and " " not in word and word[1:].islower():
            continue  # a capitalised first word of the sentence, not a name
        if word.replace(".", "").replace(",", "").isdigit() or word.split()[0].lower() in MONTHS:
            continue  # "August 15" is a date, not a name
        out.append(Proposal(s0 + m.start(), s0 + m.end(), Label.PROPN))
    return out


def lists(ctx: Context, found: Sequence[tuple[int, int]]) -> list[Proposal]:
    """Runs of names joined by commas and "and" ("Baidu, Alibaba, and ByteDance"), for
    questions that ask for several. ``found`` are the name spans already kept."""
    if not ctx.question.plural:
        return []
    text = ctx.sentence.doc_text
    out, run = [], []
    for k in sorted(found):
        if run and LIST_SEP.fullmatch(text[run[-1][1] : k[0]]):
            run.append(k)
            continue
        if len(run) >= 2:
            out.append(Proposal(run[0][0], run[-1][1], Label.LIST))
        run = [k]
    if len(run) >= 2:
        out.append(Proposal(run[0][0], run[-1][1], Label.LIST))
    return out


def noun_phrases(ctx: Context) -> list[Proposal]:
    """Noun chunks, for questions that want a description, a number or a thing."""
    if not ctx.question.expected & (DESC | NUMBER | THING):
        return []
    return [Proposal(nc.start, nc.end, Label.NP) for nc in ctx.noun_chunks]


def reasons(ctx: Context) -> list[Proposal]:
    """Clauses introduced by a word that gives a reason ("because ...", "due to ...", "to
    [verb] ..."), for why-questions."""
    if not ctx.question.expected & REASON:
        return []
    s0, stext = ctx.sentence.span.start, ctx.sentence.text
    out = []
    for m in CAUSE.finditer(stext):
        if m.group(1).lower() == "to" and "VERB" not in getAllLemmas(m.group(2).lower()):
            continue
        stop = SEG_SPLIT.search(stext[m.end(1) :] + ",")
        out.append(Proposal(s0 + m.start(), s0 + m.end(1) + stop.start(), Label.REASON))
    return out


def segments(ctx: Context) -> list[Proposal]:
    """The sentence cut at punctuation, for description questions."""
    if not ctx.question.expected & DESC:
        return []
    s0, stext = ctx.sentence.span.start, ctx.sentence.text
    out, pos = [], 0
    for m in SEG_SPLIT.finditer(stext + ","):
        if m.start() > pos:
            out.append(Proposal(s0 + pos, s0 + m.start(), Label.SEG))
        pos = m.end()
    return out


@dataclass(frozen=True)
class _Phrase:
    start: int
    end: int
    text: str = field(repr=False)


def _anchor_phrases(ctx: Context) -> list[_Phrase]:
    """The phrase right after each run of the question's words, up to punctuation, when it has
    no verb: "known for [internet security in China]"."""
    s = ctx.sentence
    text, s1 = s.doc_text, s.span.end
    qterms = set(ctx.question.terms)
    matched = sorted(p for t, p in s.token_pos if t in qterms)
    matched_words = {s.word_at(p) for p in matched}
    out = []
    for after in matched:
        if s.word_at(after) + 1 in matched_words:
            continue  # not the end of the run
        run_term = next(t for t, p in s.token_pos if p == after)
        if ctx.doc_fraction(run_term) > COMMON_WORD_FRACTION:
            continue  # after "AI" or "LLMs" comes anything
        word = WORD_PREFIX.match(text[after:s1])
        rest = after + (word.end() if word else 0)
        rest += len(text[rest:s1]) - len(text[rest:s1].lstrip(_ANCHOR_LEAD))
        stop = SEG_SPLIT.search(text[rest:s1] + ",")
        if stop and stop.start() > 0 and not VERBISH.search(text[rest : rest + stop.start()]):
            out.append(_Phrase(rest, rest + stop.start(), text[rest : rest + stop.start()]))
    return out


def anchors(ctx: Context) -> list[Proposal]:
    """Anchor phrases, and the same without a trailing prepositional phrase ("internet security
    [in China]"), for description questions."""
    q = ctx.question
    if not q.expected & DESC:
        return []
    out = []
    for ph in _anchor_phrases(ctx):
        out.append(Proposal(ph.start, ph.end, Label.ANCHOR))
        cut = PP_CUT.search(ph.text)
        head = ph.text[: cut.start()].split() if cut else []
        # "akin [to ChatGPT]" needs what follows; "security [in China]" does not.
        if cut and q.kind != "place" and len(head) >= 2 and noun_or_name(head[-1]):
            out.append(Proposal(ph.start, ph.start + cut.start(), Label.ANCHOR))
    return out


def places(ctx: Context) -> list[Proposal]:
    """For where-questions, the object of a place preposition in an anchor phrase: "Where does
    he work?" ... "a research fellow [from the Beijing Academy]". Closeness is measured from
    the start of the phrase."""
    q = ctx.question
    if not q.expected & DESC or q.kind != "place":
        return []
    out = []
    for ph in _anchor_phrases(ctx):
        for m in LOCATIVE.finditer(ph.text):
            if TIME_START.match(ph.text[m.end() :]):
                continue  # "in 1013", "on Tuesday": when, not where
            ends = [ph.end]
            cut = PP_CUT.search(ph.text[m.end() :])
            if cut:  # "Normandy [in 1013]"
                ends.append(ph.start + m.end() + cut.start())
            out += [Proposal(ph.start + m.end(), end, Label.WHERE, placed_from=ph.start) for end in ends]
    return out


def gaps(ctx: Context) -> list[Proposal]:
    """Short verbless gaps between two of the question's words ("JD.com ___ Zhou Bowen")."""
    if not ctx.question.expected & DESC:
        return []
    s = ctx.sentence
    text, s1 = s.doc_text, s.span.end
    qterms = set(ctx.question.terms)
    matched = sorted(p for t, p in s.token_pos if t in qterms)
    out = []
    for a, b in zip(matched, matched[1:]):
        w = WORD_PREFIX.match(text[a:s1])
        gap_start = a + (w.end() if w else 0)
        gap = text[gap_start:b]
        if (0 < len(gap.split()) <= _MAX_GAP_WORDS and not SEG_SPLIT.search(gap.strip(" ,"))
                and not VERBISH.search(gap)):
            out.append(Proposal(gap_start, b, Label.GAP))
    return out


_AFTER_NAMES = (noun_phrases, reasons, segments, anchors, places, gaps)


@dataclass(frozen=True)
class SpanSet:
    """Trimmed candidate spans of one sentence: each span's labels (a span may be an entity, a
    quotation and a noun chunk at once; the label that fits the question best is used later),
    and where closeness is measured from for spans cut out of a longer phrase."""

    labels: dict[tuple[int, int], frozenset[Label]]
    placed: dict[tuple[int, int], int]


def propose(ctx: Context, max_chars: int) -> SpanSet:
    """Every family's proposals, trimmed; lists are built from the names kept."""
    labels: dict[tuple[int, int], set[Label]] = {}
    placed: dict[tuple[int, int], int] = {}

    def keep(proposals: list[Proposal]) -> None:
        for p in proposals:
            t = trim(ctx.sentence, p, ctx.question, max_chars)
            if t is None:
                continue
            labels.setdefault((t.start, t.end), set()).add(t.label)
            if p.placed_from is not None:
                placed[(t.start, t.end)] = p.placed_from

    keep(names(ctx))
    keep(lists(ctx, [k for k, labs in labels.items() if labs & NAME_LABELS]))
    for family in _AFTER_NAMES:
        keep(family(ctx))
    return SpanSet({k: frozenset(v) for k, v in labels.items()}, placed)
