"""The patterns the rule reader matches in sentences and questions, in one place."""
from __future__ import annotations

import re

from lemminflect import getAllLemmas

from qa.tokens import lemma, stem, tokenize

QUOTE = re.compile(r"[“\"]([^”\"\n]{1,80})[”\"]")
# A run of capitalised words, allowing "of" and "&" inside ("Bank of China", "AT & T").
PROPN = re.compile(r"(?:[A-Z0-9][\w.&’'-]*[\w]|[A-Z])(?:\s+(?:[A-Z0-9][\w.&’'-]*[\w]|[A-Z]|of|&)){0,5}")
SEG_SPLIT = re.compile(r"\s*(?:[,;:()\[\]]|\s[–—-]\s|\.\s)\s*")
TRAIL = re.compile(r"(?:[’']s|[\s.,;:!?’'\"”“)(]|\b(?:and|of|the|in|on|at|by|for|to|or))+$")
LEAD = re.compile(
    r"^(?:[\s,;:!?\"”“(]|(?:and|or|but|which|who|that|as|while|on|in|of|for|to|by|with|at|"
    r"about|from|into|is|are|was|were|be|been)\b\s*)+",
    re.I,
)
MONTHS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday",
})
ERAS = frozenset({"spring", "summer", "autumn", "fall", "winter", "century", "centuries", "decade", "ages"})
YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")
WORD = re.compile(r"\w+(?:[.'’\-]\w+)*")
WORD_PREFIX = re.compile(r"[\w.’'-]+")
WORDISH = re.compile(r"[\w-]")
PP_CUT = re.compile(r"\s+(?:in|at|on|for|from|with|by|to|since|during|after|before|as|which|that)\s")
POSSESSIVE = re.compile(r"['’]s\b")
AGENT = re.compile(r"\b([\w-]+)\s+by\s+$")
# Words of a relative clause (", which is best known for ...,").
RELATIVE = re.compile(r",\s+(?:which|who|whose|whom)\b(?:[^,;]|,\s*(?:and\s+)?[A-Z0-9])*,")
# Coordination between clauses: a span across one is less likely to answer about the other.
# A comma inside a list of names ("Baidu, Alibaba, and ByteDance") does not end the clause.
CLAUSE_BREAK = re.compile(r",\s+(?:and|but|while|whereas|as well as)\b|;|\bas well as\b")
VERBISH = re.compile(
    r"\b(is|are|was|were|be|been|has|have|had|will|would|can|could|said|says|best|also)\b", re.I
)
CAUSE = re.compile(
    r"\b(because(?: of)?|due to|owing to|thanks to|as a result of|in order to|so that|so as to|"
    r"to)\s+([\w’'-]+)",
    re.I,
)
LOCATIVE = re.compile(
    r"\b(?:in|at|on|from|near|inside|within|across|throughout)\s+(?!the\s+(?:end|start|"
    r"beginning|middle)\b)"
)
TIME_START = re.compile(
    r"(?:\d|(?:early|late|mid)\b|(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"spring|summer|autumn|winter|the\s+(?:\d|year|past|next|last|first|same))\b)",
    re.I,
)
LIST_SEP = re.compile(r"[”\"]?(?:,\s*|\s+and\s+|,\s+and\s+|\s*&\s*)[“\"]?")
OF_NAME = re.compile(r"\b([A-Za-z][\w-]*) of (?:the )?([A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*)*)")
HYP_WH = re.compile(r"\b(?:what|which|who|whom)\b(?:\s+(?:kind|type|sort)\s+of)?", re.I)

# Words news writing uses interchangeably: "Which newspaper did he speak to?" is answered by
# "..., he told the Global Times".
_CLASSES = {
    "<say>": frozenset(
        stem(lemma(w)) for w in "say tell speak state report announce claim explain comment remark".split()
    ),
}
_CLASS_OF = {t: name for name, members in _CLASSES.items() for t in members}


def key(term: str) -> str:
    """The term, or the name of its word class."""
    return _CLASS_OF.get(term, term)


def alternatives(term: str) -> frozenset[str]:
    """Every term that counts as ``term``."""
    return _CLASSES.get(_CLASS_OF.get(term, ""), frozenset((term,)))


def with_classes(terms: frozenset[str]) -> frozenset[str]:
    """``terms`` plus the name of every word class they have a member of."""
    extra = {_CLASS_OF[t] for t in terms if t in _CLASS_OF}
    return terms | extra if extra else terms


def noun_or_name(word: str) -> bool:
    forms = getAllLemmas(word.lower())
    return not forms or "NOUN" in forms or "PROPN" in forms


def roles(question: str) -> list[tuple[str, set[str]]]:
    """("ceo", {"sensetim"}) for "the CEO of SenseTime": a role and whose it is."""
    out = []
    for m in OF_NAME.finditer(question):
        head = tokenize(m.group(1))
        if len(head) == 1:
            out.append((head[0], set(tokenize(m.group(2)))))
    return out


def hypothesis(question: str, answer: str) -> str:
    """The question with the answer put in for its wh-word: "What is the term for a task ...?"
    with "A computational problem" -> "A computational problem is the term for a task ..."."""
    m = HYP_WH.search(question)
    if not m:
        return f"{answer} {question}"
    return f"{question[: m.start()]}{answer}{question[m.end() :]}".rstrip(" ?")
