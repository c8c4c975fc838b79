"""How well a span's label fits the answer type a question wants. Pure functions."""
from __future__ import annotations

import re

from qa.labels import NAME_LABELS, NUMERIC_LABELS, PHRASE_LABELS, TIME_LABELS, Label
from qa.question import DESC, Question
from qa.rules.patterns import ERAS, MONTHS, YEAR
from qa.rules.weights import TypeWeights


def type_fit(q: Question, label: Label, text: str, w: TypeWeights) -> float:
    """In [0, 1]: 1 for a span of the type the question asks for."""
    if label == Label.WHERE:
        return 1.0
    if q.kind == "reason" or label == Label.REASON:
        return 1.0 if q.kind == "reason" and label == Label.REASON else 0.0
    if label == Label.LIST:
        return 1.0 if q.plural else w.list_for_one
    if label in q.primary and label != Label.DESC:
        return sub_type(q, text, w)
    if label in PHRASE_LABELS:
        return _phrase_fit(q, label, text, w)
    # A named entity (or capitalised name) that is not of the wanted type.
    if q.kind == "thing":
        return w.name_for_thing
    if q.kind == "number":
        return w.ordinal_for_number if label == Label.ORDINAL else w.other_number if label in NUMERIC_LABELS else 0.0
    if q.kind == "date" or label in NUMERIC_LABELS or label in TIME_LABELS:
        return 0.0
    if label == Label.NORP:
        return w.nationality
    if q.kind == "person":
        # "Who launched X?" may be answered by a company; "Which person ...?" may not, though an
        # untyped capitalised run (PROPN) may still be a name spaCy missed.
        org_allowed = label == Label.PROPN or label in q.expected
        return w.org_for_person if org_allowed and label in (Label.ORG, Label.PROPN) else w.other_for_person
    if label in q.expected:
        return w.secondary
    return w.other_name if label in NAME_LABELS else 0.0


def _phrase_fit(q: Question, label: Label, text: str, w: TypeWeights) -> float:
    if DESC <= q.expected:
        return w.description.get(label, w.other_phrase) * (w.description_for_place if q.kind == "place" else 1.0)
    if q.kind == "thing":
        return w.thing.get(label, w.other_phrase)
    if q.kind == "number":
        return w.noun_phrase_number if label == Label.NP and any(c.isdigit() for c in text) else 0.0
    if label == Label.QUOTE and q.kind in ("product", "organisation"):
        return w.quote_for_name
    return 0.0


def sub_type(q: Question, text: str, w: TypeWeights | None = None) -> float:
    """1.0, less when a date question asks for a month or a year the span does not name."""
    w = w or TypeWeights()
    if q.kind != "date":
        return 1.0
    low = q.text.lower()
    words = set(re.findall(r"\w+", text.lower()))
    if re.search(r"\bmonths?\b", low) and not words & MONTHS:
        return w.month_missing
    if re.search(r"\byears?\b", low) and not YEAR.search(text):
        return w.year_missing
    if re.search(r"\bdate\b", low) and not re.search(r"\d", text):
        return w.date_without_digit
    if not re.search(r"\d", text) and not words & MONTHS and not words & ERAS:
        return w.relative_date
    return 1.0
