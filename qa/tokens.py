"""The one tokenizer shared by BM25 indexing, querying and highlighting.

Terms are NFKC-normalised, lower-cased, stop-word filtered, irregular forms lemmatised
("held" -> "hold", "told" -> "tell") and Snowball-stemmed, and every term keeps its character
offsets in the original text so highlights land on what the user sees.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import threading

import snowballstemmer
from lemminflect import getAllLemmas
from spacy.lang.en.stop_words import STOP_WORDS as _SPACY_STOP_WORDS

# Words spaCy calls stop words that carry meaning in questions about facts ("first batch",
# "top model", "over forty") are kept.
_KEEP = {
    "first", "last", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "fifteen", "twenty", "forty", "fifty", "sixty", "hundred",
    "top", "name", "call", "full", "former", "third", "several", "whole", "empty", "back",
    "front", "bottom", "side", "over", "nobody", "none",
}
STOP_WORDS = frozenset(w for w in _SPACY_STOP_WORDS if w not in _KEEP) | {"s", "'s", "’s"}

# A word, number or dotted/hyphenated name such as "01.AI", "Kai-fu", "3.5" or "e-commerce".
_TOKEN = re.compile(r"\w+(?:[.'’\-]\w+)*", re.UNICODE)
_SPLIT = re.compile(r"[.\-]")
_PART = re.compile(r"\w+")
# A Snowball stemmer keeps its word in the object while it works: one per thread, or two
# requests stemming at once corrupt each other (an IndexError under load).
_stemmers = threading.local()

# Saved indexes record this; a change in how text becomes terms needs a rebuild.
TOKENIZER_VERSION = 2


@dataclass(frozen=True)
class Token:
    term: str
    start: int
    end: int


def normalize(text: str) -> str:
    """NFKC, curly quotes to straight, lower case."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2019", "'").replace("\u2018", "'").lower()


@functools.lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


@functools.lru_cache(maxsize=100_000)
def lemma(word: str) -> str:
    """The dictionary form of an irregular word ("held" -> "hold", "men" -> "man"); other
    words unchanged, since stemming handles regular endings.

    Without a part-of-speech tag, an ambiguous form is kept ("found": find or found; "left":
    leave or left), except a verb form whose only other reading is a rare noun ("spoke").
    """
    forms = getAllLemmas(word)
    if not forms:
        return word
    verbs = forms.get("VERB", ())
    if any(word in lemmas for lemmas in forms.values()):
        if len(verbs) == 1 and verbs[0] != word and set(forms) == {"VERB", "NOUN"}:
            return verbs[0]
        return word
    if len(verbs) == 1 and not {"ADJ", "ADV"} & set(forms):
        return verbs[0]
    every = {lem for lemmas in forms.values() for lem in lemmas}
    return every.pop() if len(every) == 1 else word


def _term(word: str) -> str | None:
    w = normalize(word)
    if w.endswith("'s"):
        w = w[:-2]
    if not w or w in STOP_WORDS:
        return None
    return stem(lemma(w))


def tokenize_spans(text: str) -> list[Token]:
    """Terms of ``text`` with their offsets (stop words dropped)."""
    out = []
    for m in _TOKEN.finditer(text):
        term = _term(m.group())
        if term:
            out.append(Token(term, m.start(), m.end()))
        # Compound names also match their parts: "Frontis.AI" is often written "Frontis".
        if _SPLIT.search(m.group()):
            for part in _PART.finditer(m.group()):
                sub = _term(part.group())
                if sub and sub != term and len(part.group()) > 1:
                    out.append(Token(sub, m.start() + part.start(), m.start() + part.end()))
    return out


def tokenize(text: str) -> list[str]:
    """Terms of ``text`` as used by BM25."""
    return [t.term for t in tokenize_spans(text)]


def words(text: str) -> list[str]:
    """Normalised words, stop words included (for span matching and question analysis)."""
    return [normalize(m.group()) for m in _TOKEN.finditer(text)]


