"""The rule reader's parts, each on one hand-made sentence, with no model loaded."""
from __future__ import annotations

import dataclasses

import pytest

from qa.annotate import Annotation, Entity
from qa.corpus import SimpleCorpus
from qa.labels import Label
from qa.question import analyze
from qa.rules import ReaderWeights, RuleReader
from qa.rules.features import confidence, rank_score, span_features
from qa.rules.generators import anchors, gaps, lists, names, places, propose, reasons
from qa.rules.layout import layout, proximity
from qa.rules.relevance import question_terms, sentence_relevance
from qa.rules.sentence import Context, Sentence
from qa.rules.trimming import Proposal, trim
from qa.rules.type_fit import type_fit
from qa.rules.weights import TypeWeights
from qa.types import Chunk, Document, Hit, Span


def ctx(text: str, question: str, entities=(), chunks=()) -> Context:
    """A context over one sentence; entities and noun chunks given as (label, phrase) / phrase."""
    ents = tuple(Entity(lab, text.index(p), text.index(p) + len(p)) for lab, p in entities)
    ncs = tuple(sorted(Span(text.index(p), text.index(p) + len(p)) for p in chunks))
    ann = Annotation("d", (Span(0, len(text)),), ents, ncs)
    return Context.of(analyze(question), Sentence.of("d", text, Span(0, len(text))), ann)


def texts(c: Context, proposals) -> list[tuple[str, Label]]:
    return [(c.sentence.doc_text[p.start : p.end], p.label) for p in proposals]


def kept(c: Context) -> dict[str, set[Label]]:
    found = propose(c, 200)
    return {c.sentence.doc_text[a:b]: set(labs) for (a, b), labs in found.labels.items()}


# ----- sentence ------------------------------------------------------------------------------
def test_snap_takes_whole_words():
    s = Sentence.of("d", "Frontis.AI was founded in 2021.", Span(0, 31))
    assert s.snap(0, 7) == (0, 10)  # "Frontis" of "Frontis.AI"
    assert s.word_at(11) == 1 and s.word_before(11) == 0


# ----- generators ----------------------------------------------------------------------------
def test_names_skip_a_sentence_initial_word_and_dates():
    c = ctx("Officials said Lee Kai-fu met Robin Li on August 15 in Beijing.", "Who met Robin Li?",
            entities=[("PERSON", "Lee Kai-fu")])
    found = texts(c, names(c))
    assert ("Lee Kai-fu", Label.PERSON) in found and ("Lee Kai-fu", Label.PROPN) in found
    assert ("Beijing", Label.PROPN) in found
    assert not any(t.startswith(("Officials", "August")) for t, _ in found)


def test_quotes_are_names():
    c = ctx('The app is called "moxiaoxian" by its makers.', "What is the app called?")
    assert ("moxiaoxian", Label.QUOTE) in texts(c, names(c))


def test_lists_join_names_for_a_plural_question():
    text = "Baidu, Alibaba, and ByteDance won approval."
    c = ctx(text, "Which companies won approval?")
    found = [(text.index(n), text.index(n) + len(n)) for n in ("Baidu", "Alibaba", "ByteDance")]
    assert texts(c, lists(c, found)) == [("Baidu, Alibaba, and ByteDance", Label.LIST)]
    singular = ctx(text, "Which company won approval first?")
    assert lists(singular, found) == []


def test_reasons_need_a_verb_after_to():
    c = ctx("The Normans joined Turkish forces to aid in the destruction of Taron.",
            "Why did the Normans join Turkish forces?")
    assert [t for t, _ in texts(c, reasons(c))] == ["to aid in the destruction of Taron."]
    assert kept(c)["aid in the destruction of Taron"] == {Label.REASON}
    none = ctx("The Normans sailed to Sicily.", "Why did the Normans sail?")
    assert reasons(none) == []


def test_anchors_and_their_head():
    c = ctx("ThreatBook's XGPT model focuses on internet security in China.",
            "What does ThreatBook's XGPT model focus on?")
    assert {t for t, _ in texts(c, anchors(c))} == {"on internet security in China.", "on internet security"}
    found = kept(c)  # trimming drops the preposition and the full stop
    assert Label.ANCHOR in found["internet security in China"] and Label.ANCHOR in found["internet security"]


def test_places_skip_times():
    c = ctx("Guo Tao, a research fellow from the Beijing Academy in 2021, said so.",
            "Where does Guo Tao work?")
    found = texts(c, places(c))
    assert ("the Beijing Academy", Label.WHERE) in found
    assert not any(t.startswith("2021") for t, _ in found)
    assert all(p.placed_from is not None for p in places(c))


def test_gaps_between_question_words():
    c = ctx("He was hired by JD.com as its senior vice-president Zhou Bowen said.",
            "What was Zhou Bowen's job at JD.com?")
    found = texts(c, gaps(c))
    assert any("senior vice-president" in t for t, _ in found), found


def test_no_descriptions_for_a_typed_question():
    c = ctx("ThreatBook's XGPT model focuses on internet security.", "When was XGPT released?")
    assert anchors(c) == [] and gaps(c) == [] and places(c) == []


# ----- trimming ------------------------------------------------------------------------------
def test_trim_drops_the_question_words_at_the_edges():
    text = "Baidu's Ernie Bot has 100 million users."
    c = ctx(text, "Which Baidu chatbot has 100 million users?")
    t = trim(c.sentence, Proposal(0, len("Baidu's Ernie Bot"), Label.PROPN), c.question, 200)
    assert text[t.start : t.end] == "Ernie Bot"


def test_trim_refuses_the_rest_of_a_name_and_takes_whole_words():
    text = "The start-up was founded by Robin Li Yanhong."
    c = ctx(text, "Who is Robin Li?")
    t = trim(c.sentence, Proposal(4, 9, Label.NP), c.question, 200)  # "start" of "start-up"
    assert text[t.start : t.end] == "start-up"
    a = text.index("Robin")
    assert trim(c.sentence, Proposal(a, a + len("Robin Li Yanhong"), Label.PERSON), c.question, 200) is None


def test_trim_makes_a_modifier_of_a_question_name_an_apposition():
    text = "Shares of smartphone giant Xiaomi rose."
    c = ctx(text, "What is Xiaomi?")
    a = text.index("smartphone")
    t = trim(c.sentence, Proposal(a, text.index(" rose"), Label.NP), c.question, 200)
    assert (text[t.start : t.end], t.label) == ("smartphone giant", Label.APPOS)


# ----- type fit, layout, relevance, features ----------------------------------------------------
def test_type_fit_follows_the_question():
    w = TypeWeights()
    who, when = analyze("Who founded 01.AI?"), analyze("When was 01.AI founded?")
    assert type_fit(who, Label.PERSON, "Lee Kai-fu", w) == 1.0
    assert type_fit(who, Label.DATE, "2023", w) == 0.0
    assert type_fit(when, Label.DATE, "this month", w) == w.relative_date
    assert type_fit(when, Label.DATE, "this month", dataclasses.replace(w, relative_date=0.1)) == 0.1


def test_an_organisation_fits_who_but_not_which_person():
    w = TypeWeights()
    who, which_person = analyze("Who launched Zhinao?"), analyze("Which person started Frontis.AI?")
    assert type_fit(who, Label.ORG, "360 Security Technology", w) == w.org_for_person
    assert type_fit(which_person, Label.ORG, "Frontis.AI", w) == w.other_for_person
    # A capitalised run spaCy did not type may still be a person's name.
    assert type_fit(which_person, Label.PROPN, "Bowen", w) == w.org_for_person
    assert type_fit(which_person, Label.PERSON, "Zhou Bowen", w) == 1.0


def test_closer_spans_are_nearer_and_clause_breaks_count():
    text = "Lee Kai-fu founded 01.AI, and Robin Li runs Baidu."
    c = ctx(text, "Who founded 01.AI?")
    lay = layout(c.question, c.sentence, lambda t: 1.0, ReaderWeights())
    s = c.sentence
    near = proximity(lay, s.word_at(0), s.word_before(len("Lee Kai-fu")), ReaderWeights())
    a = text.index("Robin")
    far = proximity(lay, s.word_at(a), s.word_before(a + 8), ReaderWeights())
    assert near > far > 0
    no_breaks = proximity(lay, s.word_at(a), s.word_before(a + 8), ReaderWeights(clause_break_words=0))
    assert no_breaks > far


def test_relevance_counts_covered_terms_and_doubts_unseen_ones():
    q = analyze("Who founded 01.AI?")
    w = ReaderWeights()
    qt = question_terms(q, lambda t: 1.0, lambda t: 0.5, (), w)
    full = sentence_relevance(q, qt, frozenset(q.terms), frozenset(), frozenset(), frozenset(), 1, 1, w)
    half = sentence_relevance(q, qt, frozenset(q.terms[:1]), frozenset(), frozenset(), frozenset(), 1, 1, w)
    assert full.rank > half.rank > 0
    assert sentence_relevance(q, qt, frozenset({"x"}), frozenset(), frozenset(), frozenset(), 1, 1, w) is None
    assert qt.doubt == 1.0
    unseen = question_terms(q, lambda t: 1.0, lambda t: 0.0, (), w)
    assert unseen.doubt == pytest.approx(w.unseen_term_doubt ** len(set(q.terms)))


def test_features_and_scores_use_the_named_weights():
    text = "01.AI was founded by Lee Kai-fu in 2023."
    c = ctx(text, "Who founded 01.AI?", entities=[("PERSON", "Lee Kai-fu"), ("DATE", "2023")])
    w = ReaderWeights()
    lay = layout(c.question, c.sentence, lambda t: 1.0, w)
    rel = sentence_relevance(c.question, question_terms(c.question, lambda t: 1.0, lambda t: 0.5, (), w),
                             c.sentence.terms, frozenset(), frozenset(), frozenset(), 1, 1, w)
    a = text.index("Lee")
    f = span_features(c, lay, (a, a + 10), frozenset({Label.PERSON}), None, rel, w)
    assert f.label == Label.PERSON and f.type_fit == 1.0 and f.overlap == 0.0
    y = text.index("2023")
    assert span_features(c, lay, (y, y + 4), frozenset({Label.DATE}), None, rel, w) is None
    assert rank_score(f, dataclasses.replace(w, base=0.5)) > rank_score(f, w)
    assert confidence(dataclasses.replace(f, conflict=True), w) == pytest.approx(confidence(f, w) * w.conflict_confidence)


# ----- the reader, wired --------------------------------------------------------------------------
def test_reader_on_a_hand_made_corpus_explains_its_answer():
    text = "01.AI was founded by Lee Kai-fu in 2023. It builds models."
    doc = Document("d", text, text, title="Startups")
    ann = Annotation("d", (Span(0, 39), Span(40, len(text))),
                     (Entity("PERSON", 21, 31), Entity("DATE", 35, 39)), ())
    other = Document("e", "Robin Li runs Baidu.", "Robin Li runs Baidu.", title="Search")
    corpus = SimpleCorpus({"d": doc, "e": other},
                          {"d": ann, "e": Annotation("e", (Span(0, 20),), (Entity("PERSON", 0, 8),), ())})
    reader = RuleReader(corpus)
    hits = [Hit(Chunk("d", text, 0, len(text)), 1.0, 1)]
    best = reader.read("Who founded 01.AI?", hits)[0]
    assert (best.text, best.answer_type, best.span) == ("Lee Kai-fu", Label.PERSON, Span(21, 31))
    why = dict(best.explanation.terms)
    assert set(why) >= {"base", "type", "proximity"} and why["type"] > 0
    assert reader.read("Who founded 01.AI?", []) == []
