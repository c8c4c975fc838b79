"""Every weight of the rule reader, named, in one place.

The values were set by hand on the seed calibration half and the SQuAD training file (see
eval/README.md); none was fitted to a benchmark question. Pass a changed ``ReaderWeights`` to
:class:`qa.rules.RuleReader` to try others.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def _table(**kw: float) -> Mapping[str, float]:
    return MappingProxyType(kw)


@dataclass(frozen=True)
class TypeWeights:
    """How well a span's label fits what the question wants, in [0, 1]."""

    # Description questions: which phrase kinds describe best.
    description: Mapping[str, float] = field(default_factory=lambda: _table(
        ANCHOR=1.0, APPOS=1.0, GAP=0.6, QUOTE=0.85, NP=0.6, SEG=0.6))
    # "What X" questions: a noun phrase, possibly a name.
    thing: Mapping[str, float] = field(default_factory=lambda: _table(
        NP=1.0, QUOTE=0.9, APPOS=0.8, ANCHOR=0.5, GAP=0.5, SEG=0.4))
    other_phrase: float = 0.3           # a phrase kind not in the tables above
    description_for_place: float = 0.6  # "Where does he work?": better a place or an org
    list_for_one: float = 0.3           # a list when one thing is asked for
    noun_phrase_number: float = 0.3     # a noun phrase with digits for "how many"
    quote_for_name: float = 0.8         # a quotation for a product or organisation
    name_for_thing: float = 0.8         # any name for "what X"
    ordinal_for_number: float = 0.2
    other_number: float = 0.4           # a number of another kind ("13" for "what percentage")
    nationality: float = 0.3            # NORP for any name question
    org_for_person: float = 0.5         # an organisation or capitalised run for "who"
    other_for_person: float = 0.3
    secondary: float = 0.75             # a wanted label, not the best-fitting one
    other_name: float = 0.6
    # Date questions: a span that does not name what is asked.
    month_missing: float = 0.6
    year_missing: float = 0.6
    date_without_digit: float = 0.7
    relative_date: float = 0.6          # "this month": says when only relative to the article


@dataclass(frozen=True)
class ReaderWeights:
    """Weights of sentence relevance, span ranking and confidence."""

    # --- sentence relevance (how well a sentence and its neighbours cover the question)
    context_term: float = 0.4         # a word added by follow-up rewriting counts this much
    unseen_term_doubt: float = 0.6    # confidence factor per question word the corpus never uses
    sentence_share: float = 0.7       # coverage by the sentence itself ...
    window_share: float = 0.3         # ... and by it with its neighbours
    coverage_power: float = 1.5
    focus_floor: float = 0.35         # relevance when none of the names asked about is near
    focus_share: float = 0.65
    retrieval_floor: float = 0.85     # relevance of a sentence in the weakest retrieved passage
    retrieval_share: float = 0.15
    missing_descriptor_rank: float = 0.5  # share of an absent descriptor's weight ranking misses
    missing_descriptor_confidence: float = 1.0
    # --- span ranking: relevance * (base + type * fit + proximity * closeness) * factors
    base: float = 0.2
    type: float = 0.4
    proximity: float = 0.4
    proximity_context_term: float = 0.3  # words put in for a pronoun locate the sentence only
    proximity_decay_words: float = 3.0   # closeness exp(-words / decay)
    clause_break_words: int = 6          # a clause break counts as this many words
    overlap_penalty: float = 0.6         # share of the span that repeats the question
    max_phrase_words: int = 12
    max_name_words: int = 6
    long_span: float = 0.8
    action_for_description: float = 0.3  # "What is X?" answered by what X does, not what it is
    one_name_for_several: float = 0.7
    common_words: float = 0.4            # a span made only of words found everywhere
    conflict_rank: float = 0.5           # a name beside "CEO of <another company>"
    conflict_confidence: float = 0.3
    conflict_window_words: int = 3
    # --- confidence: relevance * (floor + share * fit), without closeness
    confidence_type_floor: float = 0.3
    confidence_type_share: float = 0.7
    reason_proximity_floor: float = 0.3  # a reason must attach to the question's verb
    reason_proximity_share: float = 0.7
    # --- embedding re-rank of "what X" answers (qa.rules.dense_check)
    dense_check: Mapping[str, float] = field(default_factory=lambda: _table(thing=2.0))
    dense_top: int = 3
    types: TypeWeights = field(default_factory=TypeWeights)
