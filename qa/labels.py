"""Answer types: the labels a span carries, as one enum shared by readers and conversation.

spaCy's entity labels come first; the rule reader adds labels for the phrases it cuts out of a
sentence. A ``StrEnum`` so that stored annotations (plain strings) compare equal to members,
and JSON output stays the plain label.
"""
from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    # Named entities (spaCy's English scheme).
    PERSON = "PERSON"
    ORG = "ORG"
    NORP = "NORP"
    FAC = "FAC"
    GPE = "GPE"
    LOC = "LOC"
    PRODUCT = "PRODUCT"
    EVENT = "EVENT"
    WORK_OF_ART = "WORK_OF_ART"
    LAW = "LAW"
    LANGUAGE = "LANGUAGE"
    DATE = "DATE"
    TIME = "TIME"
    PERCENT = "PERCENT"
    MONEY = "MONEY"
    QUANTITY = "QUANTITY"
    ORDINAL = "ORDINAL"
    CARDINAL = "CARDINAL"
    # Phrases the rule reader proposes.
    PROPN = "PROPN"      # a run of capitalised words
    QUOTE = "QUOTE"      # a quotation
    NP = "NP"            # a noun chunk
    SEG = "SEG"          # a comma-delimited segment
    ANCHOR = "ANCHOR"    # the words right after the question's words ("known for ___")
    APPOS = "APPOS"      # what is left of a phrase around a name asked about
    GAP = "GAP"          # a short gap between the question's words
    LIST = "LIST"        # a list of names
    WHERE = "WHERE"      # the object of a place preposition
    REASON = "REASON"    # a clause giving a reason
    # What a description question wants; no span carries it.
    DESC = "DESC"

    @classmethod
    def parse(cls, value: object) -> "Label | None":
        """The label named by ``value``, or ``None`` for an empty or unknown one (a user's
        model, or an index written by another spaCy pipeline, may use other labels)."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value)) if value else None
        except ValueError:
            return None


ENTITY_LABELS = frozenset(list(Label)[: list(Label).index(Label.CARDINAL) + 1])
NAME_LABELS = frozenset({
    Label.PERSON, Label.ORG, Label.NORP, Label.FAC, Label.GPE, Label.LOC, Label.PRODUCT,
    Label.EVENT, Label.WORK_OF_ART, Label.LAW, Label.LANGUAGE, Label.PROPN, Label.QUOTE,
})
NUMERIC_LABELS = frozenset({Label.CARDINAL, Label.PERCENT, Label.MONEY, Label.QUANTITY, Label.ORDINAL})
TIME_LABELS = frozenset({Label.DATE, Label.TIME})
PHRASE_LABELS = frozenset({
    Label.SEG, Label.NP, Label.QUOTE, Label.ANCHOR, Label.APPOS, Label.GAP, Label.LIST,
    Label.WHERE, Label.REASON,
})
