"""Question analysis: what kind of answer a question wants, and its key terms.

Done with patterns over the question only, so it costs microseconds at question time.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.tokens import tokenize, words

PERSON = frozenset({"PERSON"})
ORG = frozenset({"ORG", "NORP", "FAC", "PROPN"})
DATE = frozenset({"DATE", "TIME"})
NUMBER = frozenset({"CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
PRODUCT = frozenset({"PRODUCT", "WORK_OF_ART", "QUOTE", "PROPN", "ORG", "EVENT", "LAW"})
DESC = frozenset({"DESC"})
# "What unit ...", "What is the term for ...": a noun phrase, possibly a name.
THING = frozenset({"THING"})
_THING = re.compile(
    r"\b(what|which) (?!is\b|are\b|was\b|were\b|does\b|did\b|do\b|has\b|have\b|had\b|can\b|"
    r"could\b|would\b|will\b|should\b|must\b|may\b|might\b)\w+|\bwhat (is|are|was|were) (the|a|an) "
    r"(term|name|word|type|kind|form|unit|process|method|example|measure)\b"
    # "What is the foundation for ...?", "What are the three ...?": a noun phrase is wanted.
    r"|^what (is|are|was|were) (the|a|an|one|two|three) "
)

_ORG_NOUNS = (
    r"compan(?:y|ies)|firms?|agenc(?:y|ies)|organi[sz]ations?|outlets?|regulators?|institutions?|"
    r"platforms?|start-?ups?|body|consultanc(?:y|ies)|newspapers?|news agency|tech giants?|"
    r"enterprises?|banks?|universit(?:y|ies)|groups?|sources?|publications?|government|"
    r"manufacturers?|teams?|clubs?|brands?|news source|media|website|organi[sz]ations?|school"
)
_PRODUCT_NOUNS = r"models?|chatbots?|bots?|llms?|programs?|tools?|apps?|products?|services?|software"

REASON = frozenset({"REASON"})

_RULES: list[tuple[str, frozenset[str], str]] = [
    (r"^why\b|\bfor what reason\b|\bwhat (is|was|were) the reasons? (for|why|behind)\b",
     REASON, "reason"),
    (r"\b(which|what) (person|people|man|woman|individual)\b", PERSON, "person"),
    (r"\b(what|which) (year|date|day|month|decade|century|time|period|era)s?\b", DATE, "date"),
    (r"^(in |on |by |since |until )?when\b|\bwhen (did|was|were|is|do|does|will)\b", DATE, "date"),
    (r"\bhow (many|much|long|old|far|large|big|often)\b|\bwhat (percentage|percent|share|"
     r"proportion|fraction|number|amount|portion)\b|\bwhich (round|place|rank)\b|\bby how much\b",
     NUMBER, "number"),
    (r"\bwhat (kind|type|sort)s? of\b|\bknown for\b|\bfocus(es)? on\b|\bposition\b|\brole\b|"
     r"\bdescribe|\bwhat did .* call\b|\bhow did\b|\bwhat (is|are|was|were) (the )?(purpose|"
     r"goal|aim|reason|cause|effect|impact)\b|\bwhy\b|\bwhat (must|should|does|do|did)\b",
     DESC, "description"),
    (rf"\b(which|what) ((\w+[ -]){{0,3}})({_ORG_NOUNS})\b", ORG, "organisation"),
    (r"\b(which|what) (\w+ ){0,2}?(country|countries|city|cities|province|region|state|continent|"
     r"nation|place|"
     r"location|river|island|area|site|town|village|sea|ocean|mountain)s?\b",
     PLACE, "place"),
    (r"\bwhere\b", PLACE | ORG | DESC, "place"),
    (r"\bwhich person|\bwhat person|\bwho(m|se)?\b", PERSON | ORG, "person"),
    (rf"\bnames? of\b|\bcalled\b|\bnamed\b|\b(which|what) ((\w+[ -]){{0,2}})({_PRODUCT_NOUNS})\b",
     PRODUCT, "product"),
]
_COMPILED = [(re.compile(p), labels, kind) for p, labels, kind in _RULES]
# "Who is Guo Tao?" asks for a description of a named person, not for a person.
_WHO_IS_NAME = re.compile(r"^[Ww](ho|hat) (is|was|are|were) ([a-z]?[A-Z0-9][\w.'-]*\s?){1,4}\??$")
_CAP = re.compile(r"\b[a-z]?[A-Z0-9][\w.&'’-]*[A-Za-z0-9]|\b[A-Z]\b")
_WH = {"who", "what", "when", "where", "which", "why", "how", "whom", "whose", "in", "on", "and",
       "did", "does", "do", "is", "was", "are", "were", "according", "besides", "i", "a", "the"}


@dataclass(frozen=True)
class Question:
    """An analysed question.

    Attributes:
        expected: entity labels an answer should carry (``DESC`` for a description).
        kind: a readable answer type: person, organisation, date, number, place, product,
            description, reason, thing.
        terms: BM25 terms of the question.
        focus: stemmed terms of the names in the question; a sentence that answers it
            should mention them (or its passage should).
    """

    text: str
    kind: str
    expected: frozenset[str]
    terms: tuple[str, ...]
    focus: tuple[str, ...]
    primary: frozenset[str] = frozenset()
    context: tuple[str, ...] = ()
    plural: bool = False
    descriptors: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()


# Words about the question itself, not about the facts asked for ("the name of", "mentioned
# in the article"): a sentence does not need them to answer.
_FRAME_TERMS = frozenset(
    tokenize(
        "name named mentioned article text document passage story kind type sort described "
        "according"
    )
)
_PLURAL = re.compile(
    r"\b(which|what) ((\w+[ -]){0,3})(companies|firms|giants|agencies|organi[sz]ations|"
    r"startups|start-ups|enterprises|models|chatbots|products|people|countries|names|"
    r"applications|tools|outlets)\b|\bnames of\b"
)


# A conversational opening before the question proper ("And what is iFlytek known for?",
# "Can you tell me who founded 01.AI?"). It asks nothing, and questions in training data never
# start with it. Prefixed to the 72 answerable stand-alone seed questions, it lowered the
# default reader's F1 from 0.827 to 0.803 ("And "), 0.737 ("Please tell me "), 0.720
# ("Do you know "), 0.709 ("Can you tell me ") and 0.639 ("Hi, "). Follow-up rewriting reads
# it before this (``qa.conversation``: "And Baidu's?").
_CONJ = (r"(?:(?:and|but|so|also|then|ok(?:ay)?|well|now|(?:hi|hello|hey)(?:\s+there)?|thanks|thank\s+you)"
         r"\s*[,!.;:]?\s+){1,2}")
_ASK = (r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show)\s+me|(?:please\s+)?tell\s+me|"
        r"do\s+you\s+know|does\s+anyone\s+know|i\s+(?:would|'d|’d)\s+like\s+to\s+know|"
        r"i\s+want\s+to\s+know|i\s+wonder|please)\s*,?\s+")
_WH_WORD = r"(?:who|whom|whose|what|when|where|which|why|how)\b"
_AUX = (r"(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should|in|on|at|for|"
        r"from|by|according)\b")
_OPENING = re.compile(rf"^\s*(?:{_CONJ}(?:{_ASK})?(?={_WH_WORD}|{_AUX})|(?:{_CONJ})?{_ASK}(?={_WH_WORD}))", re.I)


def without_opening(text: str) -> str:
    """The question without a leading "And", "So", "Can you tell me", "Please" ... before
    its question word."""
    rest = _OPENING.sub("", text, count=1)
    return rest[:1].upper() + rest[1:] if rest != text else text


def analyze(text: str, context: Sequence[str] = ()) -> Question:
    """Classify the answer type and pick out key terms of a question.

    ``context`` holds words that follow-up rewriting brought from earlier turns: they count as
    terms (``Question.context``) but do not decide the answer type. A conversational opening
    ("And what ...?") is dropped: ``Question.text`` is what the readers read.
    """
    context = tuple(t for w in context for t in tokenize(w) if t)
    text = without_opening(text)
    full = text
    low = " ".join(words(text))
    kind, expected = "description", DESC | ORG | PRODUCT
    if _WHO_IS_NAME.match(text.strip()):
        kind, expected = "description", DESC
    else:
        for pattern, labels, name in _COMPILED:
            if pattern.search(low):
                kind, expected = name, labels
                break
        else:
            if _THING.search(low):
                kind, expected = "thing", THING
    primary = _primary(low, kind, expected)
    focus: list[str] = []
    for m in _CAP.finditer(text):
        word = m.group()
        if word.lower() in _WH or word.lower().rstrip("'s’") in _WH:
            continue
        focus.extend(tokenize(word))
    own = tuple(t for t in tokenize(text) if t not in _FRAME_TERMS)
    return Question(
        full,
        kind,
        expected,
        own + tuple(t for t in context if t not in own),
        tuple(dict.fromkeys(focus)),
        primary,
        tuple(t for t in context if t not in own),
        bool(_PLURAL.search(low)),
        # A name in the wh-phrase ("which European country") restricts the answer; it is not
        # a word for what the answer is.
        tuple(t for t in _descriptors(low) if t not in focus),
    )


_WH_PHRASE = re.compile(r"\b(?:which|what)\s+(?:(?:kind|type|sort)s?\s+of\s+)?((?:[\w'-]+\s+){0,3})")
_PHRASE_STOP = {
    "is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "of", "in", "on",
    "for", "to", "by", "with", "can", "could", "will", "would", "should", "must", "may",
    "besides", "according", "at", "from", "the", "a", "an",
}


def _descriptors(low: str) -> tuple[str, ...]:
    """Terms of the wh-phrase ("which news agency", "what position"): they say what kind of
    thing the answer is, and the answering sentence often does not repeat them."""
    m = _WH_PHRASE.search(low)
    if not m:
        return ()
    out = []
    for w in m.group(1).split():
        if w in _PHRASE_STOP or w.endswith(("ly", "ed")):
            break
        out.extend(tokenize(w))
    return tuple(out)


def _primary(low: str, kind: str, expected: frozenset[str]) -> frozenset[str]:
    """The labels that fit the question best; the rest of ``expected`` fits less well."""
    if kind == "number":
        if re.search(r"\b(percentage|percent|share|proportion|fraction)\b", low):
            return frozenset({"PERCENT"})
        if re.search(r"\bwhich (round|place|rank)\b", low):
            return frozenset({"ORDINAL"})
        if re.search(r"\bhow much\b", low):
            return frozenset({"MONEY", "QUANTITY", "CARDINAL", "PERCENT"})
        return frozenset({"CARDINAL", "QUANTITY", "MONEY"})
    if kind == "person":
        return PERSON
    if kind == "organisation":
        return frozenset({"ORG"})
    if kind == "place":
        return PLACE
    if kind == "product":
        return frozenset({"PRODUCT", "WORK_OF_ART", "QUOTE"})
    return expected
