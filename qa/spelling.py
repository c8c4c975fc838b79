"""Spelling correction of questions against the corpus vocabulary.

"how many AI modles were aproved in the last six monts?" finds nothing as typed: BM25 matches
no misspelt word, and the question reads as another. Each word that is neither in the corpus
nor in an English word list is replaced by the closest corpus or English word (SymSpell's symmetric-delete
lookup, at most one edit for words of up to five letters, two above; the most frequent wins a
tie). Words with digits, short words and words the corpus or English knows are left alone, so
a clean question is left as typed (one of the 97 seed questions changes: "benefitted" becomes the corpus's "benefited"). The correction is shown to the user (``Reply.corrections``
and the "searched for" line).

SymSpell was chosen over RapidFuzz by measurement (eval/README.md, "Typos"): the same
corrections on the typo benchmark, at a fraction of the time per word.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_LETTER = r"[^\W\d_]"
_WORD = re.compile(rf"{_LETTER}(?:[\w’'.-]*{_LETTER})?")
_MIN_LETTERS = 4
_SHORT = 6  # words of up to this many letters get one edit, longer ones two
# Question words are kept whatever the corpus holds.
_ALWAYS = ("who", "whom", "whose", "what", "when", "where", "which", "why", "how", "many", "much")
_MAX_VOCAB_CHARS = 50_000_000  # a larger corpus is sampled: its first 50 MB of text


@dataclass(frozen=True)
class Correction:
    original: str
    corrected: str
    start: int  # offsets of the original word in the question
    end: int


def _english_path():
    from importlib.resources import files

    return files("symspellpy") / "frequency_dictionary_en_82_765.txt"


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The word list that ships with symspellpy (82,765 English words, lower case)."""
    text = _english_path().read_text(encoding="utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


@lru_cache(maxsize=1)
def english_index():
    """SymSpell over the English word list, for common words the corpus lacks ("occured" ->
    "occurred"). One edit only: two would cost three seconds to build, and an English word
    two edits away is as often another word."""
    from symspellpy import SymSpell

    sym = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
    sym.load_dictionary(str(_english_path()), term_index=0, count_index=1)
    return sym


def _kept(a: str, b: str) -> int:
    """Letters ``b`` keeps in place at both ends of ``a``: "agains" is "against" (6), not
    "gains" (5); "monts" is "months" (5), not "month" (4)."""
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p + s


def _cased(like: str, word: str) -> str:
    """``word`` written the way ``like`` was: lower, Capitalised or as the corpus writes it."""
    if like.islower():
        return word.lower()
    if like[0].isupper() and word.islower():
        return word[0].upper() + word[1:]
    return word


class Speller:
    """Corrects question words against a vocabulary of (surface word, count) pairs.

    Example:
        >>> sp = Speller.from_texts(["Baidu's Ernie Bot was approved."])
        >>> sp.correct("Was Ernie Bot aproved?")[0]
        'Was Ernie Bot approved?'
    """

    def __init__(self, counts: Counter[str]) -> None:
        from symspellpy import SymSpell

        self._surface: dict[str, str] = {}
        lower: Counter[str] = Counter()
        for word, n in counts.most_common():
            key = word.lower()
            self._surface.setdefault(key, word)  # the most frequent way the corpus writes it
            lower[key] += n
        for w in _ALWAYS:
            lower[w] += 1
        self.vocabulary = frozenset(lower)
        self._sym = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, n in lower.items():
            if len(word) >= _MIN_LETTERS - 1:
                self._sym.create_dictionary_entry(word, n)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Speller":
        counts: Counter[str] = Counter()
        size = 0
        for text in texts:
            counts.update(m.group() for m in _WORD.finditer(text))
            size += len(text)
            if size > _MAX_VOCAB_CHARS:
                break
        return cls(counts)

    def _suggest(self, word: str, initial: bool = False) -> str | None:
        from symspellpy import Verbosity

        key = word.lower()
        if key in self.vocabulary or (key.isalpha() and key in english_words()):
            return None
        letters = sum(c.isalpha() for c in key)
        if letters < _MIN_LETTERS or word.isupper():
            return None  # short words are ambiguous; an acronym is typed on purpose
        edits = 1 if letters <= _SHORT else 2
        found = [(s.distance, 1, s) for s in self._sym.lookup(key, Verbosity.CLOSEST, max_edit_distance=edits)]
        # A capital inside the sentence marks a name; the first word's capital says nothing.
        name = word[0].isupper() and not initial
        if name:
            # A name is only ever corrected to a name the corpus writes with a capital.
            found = [f for f in found if self._surface.get(f[2].term, "")[:1].isupper()]
        else:
            found += [(s.distance, 0, s) for s in english_index().lookup(key, Verbosity.CLOSEST, max_edit_distance=1)]
        if not found:
            return None
        closest = min(f[0] for f in found)
        # Among the closest: a corpus word, then the word keeping most letters in place, then
        # the most frequent.
        _, _, best = max((f for f in found if f[0] == closest),
                         key=lambda f: (f[1], _kept(key, f[2].term), f[2].count))
        return _cased(word, self._surface.get(best.term, best.term))

    def correct(self, question: str) -> tuple[str, tuple[Correction, ...]]:
        """The question with misspelt words replaced, and what was replaced."""
        out, fixes, pos = [], [], 0
        for m in _WORD.finditer(question):
            word = m.group()
            # "ThreatBok's": the possessive is not part of the word to look up.
            base = re.sub(r"['’]s$", "", word)
            before = question[: m.start()].rstrip(" \"'“(")
            fixed = self._suggest(base, initial=not before or before.endswith((".", "!", "?")))
            if fixed is None or fixed == base:
                continue
            out += [question[pos : m.start()], fixed]
            pos = m.start() + len(base)
            fixes.append(Correction(base, fixed, m.start(), m.start() + len(base)))
        out.append(question[pos:])
        return "".join(out), tuple(fixes)
