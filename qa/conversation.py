"""Follow-up questions: rewrite a question that leans on earlier turns into one that stands alone.

Deterministic rules, no language model. A question with a pronoun ("it", "he", "the company")
gets the pronoun replaced by what the previous turn was about: its answer when that answer is
the kind of thing the pronoun can point to (a person for "he", an organisation or product for
"it"), else the name the previous question asked about. A follow-up with no names of its own
("And when?") borrows the previous question's content words, and one that only names something
else ("And Baidu's?", "What about iFlytek?") is the previous question asked about that.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lemminflect import getAllLemmas

from qa.labels import NUMERIC_LABELS, TIME_LABELS, Label
from qa.question import analyze, without_opening
from qa.tokens import tokenize

_PERSONAL = r"he|she|him|his|her|hers|himself|herself"
_THING = r"it|its|itself|they|them|their|theirs|this|that"
_NOUN_ANAPHOR = (
    r"(?:the|this|that) (?:company|firm|startup|start-up|organi[sz]ation|agency|model|chatbot|"
    r"bot|regulation|rule|policy|product|tool|platform|group|person|man|woman|article|body|"
    r"institute|program|programme|regulator|outlet|app)"
)
_ANAPHOR = re.compile(rf"\b(?:{_NOUN_ANAPHOR}|{_PERSONAL}|{_THING})\b", re.I)
# "the company behind it": the noun phrase is the question's own, the pronoun is the anaphor.
_NOUN_OF_PRONOUN = re.compile(
    rf"\b{_NOUN_ANAPHOR}\s+(?:behind|of|for|(?:that|which|who) (?:\w+ )?(?:makes?|made|builds?|built|"
    r"owns?|owned|runs?|ran|develop(?:s|ed)?|launch(?:es|ed)?|created?|creates))\s+(it|them)\b", re.I)
_POSSESSIVE = {"his", "her", "its", "their"}
# What a noun anaphor says its referent is: "the company" is not the model the last turn
# answered ("What is ThreatBook's LLM called?" XGPT, then "What does the company focus on?").
_KIND_OF_NOUN = (
    ("organisation", re.compile(r"(?:company|firm|startup|start-up|organi[sz]ation|agency|group|institute|"
                                r"regulator|outlet|body)$")),
    ("product", re.compile(r"(?:model|chatbot|bot|product|tool|platform|app|program|programme)$")),
)
_LABEL_OF_KIND = {"organisation": Label.ORG, "product": Label.PRODUCT}
# "When was that?", "Why did this happen?": a bare demonstrative as the whole subject points to
# what the previous turn was about (an event), not to a thing named in it.
_EVENT = re.compile(
    r"^\s*(?:and\s+)?(when|where|why|how)\s+(?:was|is|did|does|were|has|had)\s+(?:that|this)"
    r"(?:\s+(?:happen|happened|done|decided|announced|made|approved|agreed|reported))?\s*[?.!]*\s*$", re.I)
# Answers "it" cannot point back to: people, times, numbers and descriptive phrases.
_NOT_A_THING = frozenset({Label.PERSON, Label.ANCHOR, Label.SEG, Label.NP}) | TIME_LABELS | NUMERIC_LABELS
# Names, including those written with a small first letter ("iFlytek", "eBay").
_CAP_RUN = re.compile(
    r"(?:\b[a-z]?[A-Z0-9][\w.&'’-]*[\w]|\b[A-Z])(?:\s+(?:[a-z]?[A-Z0-9][\w.&'’-]*[\w]|of|&))*"
)
_DEFINITE = re.compile(
    r"\bthe (?:[\w.’'-]+ ){0,5}?[\w.’'-]+(?=\s*\?|$|\s+(?:in|on|at|for|by|with|from|to|and|or|"
    r"that|which|who|when|did|does|do|is|was|are|were|called|named)\b)"
)
# "did the interim regulation [take] effect": an auxiliary's subject ends before the verb.
_AUX_SUBJECT = re.compile(
    r"\b(?:did|does|do|will|can|could|would|should|must|may|might) (the (?:[\w.’'-]+ ?)+)"
)
_ELLIPSIS = re.compile(
    r"^\s*(?:and|and what about|what about|how about|and for|what of)\s+(.+?)[\s?.!]*$", re.I
)
_ACRONYM = re.compile(r"[A-Z]{2,5}s?")
# "the name of ...", "the number of ...": parts of the question's frame, not referents.
_FRAME = re.compile(r"the (name|number|kind|type|percentage|share|amount|date|year|month)\b")
_WH_START = re.compile(
    r"^(who|whom|whose|what|which|when|where|why|how|in|on|at|according|did|does|do|is|are|"
    r"was|were|and|the|a|an)$",
    re.I,
)


@dataclass(frozen=True)
class Turn:
    """A previous turn: the user's question and, when known, the answer and its type."""

    question: str
    answer: str | None = None
    answer_label: Label | None = None

    @classmethod
    def from_reply(cls, reply) -> "Turn":
        """The turn a :class:`qa.types.Reply` leaves: its self-contained question, its answer
        and the answer's type."""
        a = reply.answer
        return cls(reply.query, a.text if a else None, a.answer_type if a else None)

    @staticmethod
    def kept(reply) -> bool:
        """Whether a reply's turn stays in the conversation: an answer or an abstention does,
        and so does a bare name found in the corpus (what "it" means next); a greeting ("hello"
        is one word too, but nothing is searched for it) or a turn that could not be resolved
        names nothing."""
        return reply.message is None or (bool(reply.passages) and bare_topic(reply.query))


def _names(question: str) -> list[str]:
    """Capitalised names in a question, without a sentence-initial question word."""
    out = []
    for m in _CAP_RUN.finditer(question):
        words = m.group().split()
        while words and _WH_START.match(words[0]):
            words = words[1:]
        name = " ".join(words)
        name = re.sub(r"['’]s$", "", name)
        if name and not _WH_START.match(name):
            out.append(name)
    return out


# What each kind of question asks for, as the pronoun that would point back to its answer.
_ASKS_FOR_PERSON = frozenset({"person"})
_ASKS_FOR_THING = frozenset({"organisation", "product", "place"})


def _asked_and_unanswered(turn: Turn, *, personal: bool, kind: str | None = None) -> bool:
    """The earlier question asked for the very thing the pronoun points to ("Who said ...?",
    then "Which company does he lead?") and got no answer the user saw. No name in that
    question is the referent, and guessing one ("LLMs", "China") misleads. A noun anaphor of
    another kind points elsewhere: "the model" after "Which company makes the XGPT model?"."""
    if turn.answer is not None:
        return False
    asked = analyze(turn.question).kind
    if kind is not None and asked in _LABEL_OF_KIND and asked != kind:
        return False
    return asked in (_ASKS_FOR_PERSON if personal else _ASKS_FOR_THING)


def _noun_kind(anaphor: str) -> str | None:
    """"organisation" for "the company", "product" for "the model", else ``None``."""
    return next((kind for kind, noun in _KIND_OF_NOUN if noun.search(anaphor.lower())), None)


def _other_kind(label: Label | None, asked: str, kind: str | None) -> bool:
    """An answer (its ``label``, and the kind its question ``asked`` for) is of another kind
    than the noun anaphor names: a product for "the company", and the reverse."""
    if kind is None:
        return False
    other = next(k for k in _LABEL_OF_KIND if k != kind)
    return label == _LABEL_OF_KIND[other] or asked == other


def _topic(turn: Turn, *, personal: bool, strict: bool = False, kind: str | None = None) -> tuple[str | None, bool]:
    """What a pronoun in the next question most likely points to, and whether that is the
    previous answer (rather than a name taken from the previous question). ``strict``: for
    "he" or "she", only a person (an answer labelled one, or a name of two words). ``kind``:
    what a noun anaphor names (:func:`_noun_kind`); an answer of the other kind is skipped."""
    label = turn.answer_label
    # After "What is Ernie Bot?" or "Who is Guo Tao?", "it" and "he" are still what was asked
    # about; the answer is a description of it.
    asked = analyze(turn.question).kind
    if turn.answer and asked != "description":
        if personal and label == Label.PERSON:
            return turn.answer, True
        if not personal and label not in _NOT_A_THING and not _other_kind(label, asked, kind):
            return turn.answer, True
    names = _names(turn.question)
    if not personal:
        # A definite noun phrase is what "it" most often points back to: "When did China
        # release the interim regulation?" is about the regulation, not about China.
        definite = [
            _before_verb(turn.question, m.group())
            for m in _DEFINITE.finditer(turn.question)
            if not _FRAME.match(m.group())
        ]
        if definite:
            return definite[0], False
    if personal:
        # Two capitalised words in a row are most likely a person's name ("Guo Tao").
        people = [n for n in names if len(n.split()) >= 2 and not any(c.isdigit() for c in n)]
        return (people or ([] if strict else names) or [None])[0], False
    if names:
        name = max(names, key=len)
        # "the company" after "What is ThreatBook's LLM called?" is the owner, ThreatBook.
        owner = re.match(r"(.+?)['’]s\s", name)
        return (owner.group(1) if owner and kind == "organisation" else name), False
    return None, False


def _before_verb(question: str, phrase: str) -> str:
    """``phrase`` cut before the verb that follows an auxiliary's subject: "the interim
    regulation take effect" -> "the interim regulation"."""
    m = _AUX_SUBJECT.search(question)
    if not m or not m.group(1).startswith(phrase.split(" ", 1)[0]) or phrase not in m.group(1):
        return phrase
    words = phrase.split()
    for n in range(2, len(words)):
        if "VERB" in getAllLemmas(words[n].lower()):
            return " ".join(words[:n])
    return phrase


def _swap_name(question: str, previous: str, *, named: bool = True) -> str | None:
    """The previous question asked about another name ("And Baidu's?"), or None. With
    ``named=False`` the new name may be written in small letters ("and baidu")."""
    m = _ELLIPSIS.match(question)
    if not m:
        return None
    new = m.group(1).strip()
    possessive = re.search(r"['’]s$", new) is not None
    new = re.sub(r"['’]s$", "", new)
    if named and not re.match(r"[a-z]?[A-Z0-9]", new):
        return None  # "And when?" asks something else about the same thing
    # Acronyms of common nouns ("LLMs", "AI", "CEO") are not what the question was about.
    names = [n for n in _names(previous) if not _ACRONYM.fullmatch(n)]
    if not names:
        return f"{previous.rstrip(' ?')} for {new}?"
    if possessive:
        owners = [n for n in names if re.search(re.escape(n) + r"['’]s\b", previous)]
        names = owners or names
    old = max(names, key=len)
    return re.sub(re.escape(old), new, previous, count=1)


def needs_context(question: str) -> bool:
    """True when a question cannot stand alone: it has an anaphor, or no content of its own."""
    if _ANAPHOR.search(question):
        return True
    q = analyze(question)
    return len(q.terms) <= 1 and not q.focus


def rewrite(question: str, history: Sequence[Turn | str]) -> str:
    """A self-contained version of ``question`` given earlier turns (oldest first).

    Example:
        >>> rewrite("In what year was it founded?", ["Who founded Frontis.AI?"])
        'In what year was Frontis.AI founded?'
        >>> rewrite("Which newspaper did he speak to?", ["Who is Guo Tao?"])
        'Which newspaper did Guo Tao speak to?'
    """
    return resolve(question, history).query


@dataclass(frozen=True)
class Rewrite:
    """A rewritten question and the referent put in for a pronoun (``None`` if none was)."""

    query: str
    topic: str | None = None
    context: tuple[str, ...] = ()
    # The pronoun when it points to an answer the conversation never got: ask which one.
    unresolved: str | None = None

    @property
    def search_text(self) -> str:
        """What retrieval searches: the question (without an opening "And") plus the earlier
        turn's words, if any."""
        return " ".join((without_opening(self.query), *self.context))


def resolve(question: str, history: Sequence[Turn | str]) -> Rewrite:
    """Like :func:`rewrite`, also saying which words came from earlier turns.

    The reader uses the topic to find the right sentence but not to place the answer in it:
    in "When did the interim regulation take effect?" the answer sits by "take effect".
    """
    turns = [t if isinstance(t, Turn) else Turn(t) for t in history if t]
    if not turns:
        return Rewrite(question)
    last = turns[-1]
    # A bare name after a question ("Who founded 01.AI?", then "Frontis.AI?") asks the same of it.
    swapped = _swap_name(question, last.question) or (
        bare_topic(question) and _swap_name(f"and {question}", last.question, named=False))
    if swapped:
        return Rewrite(swapped)
    if not needs_context(question):
        return Rewrite(question)
    match = _ANAPHOR.search(question)
    inner = _NOUN_OF_PRONOUN.search(question)
    if inner is not None:
        match = re.compile(r"\w+").match(question, inner.start(1))
    event = _EVENT.match(question)
    if match is None or (event and last.answer_label in TIME_LABELS | NUMERIC_LABELS):
        # "And when?" borrows the content words of the previous question. So does "When was
        # that?" after a number or a date: "that" is what was counted or dated, not a name
        # taken from the question ("When was March 2024?").
        extra = _content_words(last.question, set())
        head = event.group(1).capitalize() if event and match is not None else question.rstrip("?").rstrip()
        return Rewrite(f"{head} {' '.join(extra)}?".strip())
    word = match.group().lower()
    personal = bool(re.fullmatch(_PERSONAL, word)) or word.endswith(("person", "man", "woman"))
    topic, from_answer, source = None, False, last
    # Walk back through the turns until one offers a referent. "He" looks for a person first:
    # after "Who founded 01.AI?" (Lee Kai-fu) and "When was 01.AI founded?", "What else did he
    # do?" is about Lee Kai-fu, not about the name the last question held.
    kind = _noun_kind(word)
    for strict in (True, False) if personal else (False,):
        for turn in reversed(turns):
            if _asked_and_unanswered(turn, personal=personal, kind=kind):
                return Rewrite(question, unresolved=match.group())
            topic, from_answer = _topic(turn, personal=personal, strict=strict, kind=kind)
            if topic:
                source = turn
                break
        if topic:
            break
    if not topic:
        return Rewrite(question)
    replacement = f"{topic}'s" if word in _POSSESSIVE else topic
    out = question[: match.start()] + replacement + question[match.end() :]
    if not from_answer:
        # A name picked from the previous question may not be what "it" meant ("When did it
        # take effect?" after a question about China's regulation), so keep that question's
        # other content words as context.
        extra = _content_words(source.question, set(tokenize(out)))
    else:
        extra = []
    return Rewrite(out, topic, tuple(extra))


def _content_words(question: str, have: set[str]) -> list[str]:
    """The words of ``question`` that carry content and are not already in ``have``."""
    return [w for w in re.findall(r"[\w.’'-]+", question) if tokenize(w) and not set(tokenize(w)) <= have]


_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings)(?: there)?[\s!.,]*$", re.I)
_THANKS = re.compile(
    r"^(?:thanks?|thank you|thx|cheers|great|cool|ok(?:ay)?|perfect|nice)(?: (?:a lot|so much|very much|again))?"
    r"[\s!.,]*$", re.I)
_BYE = re.compile(r"^(?:bye|goodbye|see you|that'?s all)[\s!.,]*$", re.I)
_ABOUT_CORPUS = re.compile(
    r"^(?:what(?:'s| is| are)? (?:this|the) (?:corpus|collection|dataset|data set|documents?|articles?)"
    r"(?: about| on)?|what (?:do you know(?: about)?|can you (?:tell me|answer)(?: about)?|documents do you have"
    r"|is in (?:the|this|your) corpus)|which documents do you have|what are you about)\s*\??\s*$", re.I)


def small_talk(question: str) -> str | None:
    """A short friendly reply to a greeting, thanks or goodbye; ``None`` for anything else."""
    q = question.strip()
    if _GREETING.match(q):
        return "Hello! Ask me a question about the documents, and I will answer from them."
    if _THANKS.match(q):
        return "You're welcome. Ask another question whenever you like."
    if _BYE.match(q):
        return "Goodbye!"
    return None


# A word that makes a text a question or a request, wherever it stands ("Baidu's founder,
# who?"), or an auxiliary that opens a yes/no question.
_ASKING = re.compile(
    r"\b(?:who|whom|whose|what|which|when|where|why|how|tell|name|list|give|describe|explain|define|"
    r"show|find|compare|summari[sz]e)\b", re.I)
_AUX_START = re.compile(r"^\W*(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had)\b", re.I)


def bare_topic(question: str) -> bool:
    """A name or a single word typed as into a search box ("Baidu", "01.AI", "ChatGPT?"): it
    says what the user is interested in but asks nothing about it. No span answers that, and
    the span reader, trained on questions, still picks one ("Baidu" -> "Cybernews"), so the
    passages are shown instead. A phrase that asks for something ("founder of 01.AI", "Ernie
    Bot users") is a question without the grammar and is answered."""
    if _ASKING.search(question) or _AUX_START.match(question):
        return False
    q = analyze(question)
    if not q.terms:
        return False
    if len(q.terms) == 1:
        return True
    # A capitalised first word may be a common one ("Purpose of Telnet", "Founder of 01.AI").
    first = question.split()[0]
    if not first.isupper() and getAllLemmas(first.lower()):
        return False
    return set(q.terms) <= set(q.focus)


_ONLY_ASKING = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay|well|um|uh|huh|who|whom|whose|what|which|when|where|why|how)\b\W*)*$", re.I)


def nothing_to_search(question: str) -> bool:
    """True when a question holds nothing to look for: "?", emoji, "what?", "and why?"."""
    return bool(_ONLY_ASKING.match(question))


def asks_about_corpus(question: str) -> bool:
    """"What is this corpus about?" and the like: answered with a summary, not a search."""
    return bool(_ABOUT_CORPUS.match(question.strip()))


def unresolved_reference(question: str) -> str | None:
    """The pronoun of a question that, asked alone, has nothing to point to, or ``None``.

    "When was it founded?" as the first question, or after turns that named nothing, cannot be
    answered by guessing what "it" is.
    """
    match = _ANAPHOR.search(question)
    if match is None or _names(question):
        return None
    word = match.group().lower()
    # With words of its own the question most often says what the pronoun means ("Which
    # company is famous for its speech recognition?"); only a bare one is left unresolved.
    if word in ("this", "that") or len(analyze(question).terms) > 2:
        return None
    return match.group()
