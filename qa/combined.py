"""The combined reader: the trained span model and the rule reader, each doing what it is good at.

The model proposes spans on any text; the rules know answer types and the seed corpus's
phrasing. Both read the same passages; their best answers become candidates, and a small
logistic model over (model confidence, rule confidence, agreement) scores each candidate. Its
weights are fitted by ``qa calibrate-reader`` on held-out articles of the training file (never on
a benchmark) and ship in the model's ``reader.json``.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.answers import group_answers
from qa.metrics import f1
from qa.types import Answer, Explanation, Hit

AGREE_F1 = 0.5
# A model answer agrees only if the model gives it at least this confidence: an answer it
# rates at 0.3% (third of three, from a passage it reads as off the point) is not a second
# opinion, yet it used to add the whole agreement weight to the rule reader's span.
AGREE_MIN_MODEL = 0.05
TOP = 3
# Candidates whose scores tie keep the order ``candidates`` gives them (each reader's own
# ranking). Rule-only spans often tie: the rule reader's confidence leaves out closeness to the
# question's words, its ranking does not. Without this, grouping would put the shorter text
# first ("LLM" before "ThreatBook" for "Which company makes the XGPT model?").
TIE_STEP = 1e-9
FEATURES = ("model", "rules", "agree", "model_top", "rules_top", "model_best")


@dataclass(frozen=True)
class Combination:
    """Weights of the candidate score; the defaults favour the model and reward agreement."""

    bias: float = -2.0
    model: float = 4.0
    rules: float = 2.0
    agree: float = 1.0
    # Whether the candidate is a reader's first answer. The rule reader ranks by its own score,
    # not by the confidence above: its first answer can have a lower confidence than its second.
    model_top: float = 0.0
    rules_top: float = 0.0
    # The model's best confidence for the question, the same for every candidate: how sure it
    # is that these passages answer the question at all. Without it a rule span the model did
    # not pick gets nothing from the model, however answerable the model finds the question.
    model_best: float = 0.0
    threshold: float = 0.5

    @classmethod
    def from_json(cls, data: dict) -> "Combination":
        return cls(**{k: float(v) for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def terms(self, feats: dict[str, float]) -> dict[str, float]:
        return {name: getattr(self, name) * feats.get(name, 0.0) for name in FEATURES}

    def probability(self, feats: dict[str, float]) -> float:
        z = self.bias + sum(self.terms(feats).values())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def rules_type_fit(answer: Answer) -> float:
    """How well the rule reader finds its answer fits the kind of answer asked for, in [0, 1]
    (1 when its explanation does not say)."""
    feats = dict(answer.explanation.features) if answer.explanation else {}
    return float(feats.get("type_fit", 1.0))


def candidates(model_answers: Sequence[Answer], rule_answers: Sequence[Answer]) -> list[tuple[Answer, dict]]:
    """Each reader's best answers, matched across readers by token F1, with their features.

    When both readers hold an answer, the rule reader's span is kept: its spans follow entity
    and phrase boundaries, the model's sometimes take a word too many ("venture capitalist Lee
    Kai-fu"). Agreement counts as much as the span fits the kind of answer asked for (the rule
    reader's type fit): two readers agreeing on a number for "what share" ("130" against the
    rules' "40%") or on a company for "which person" is weaker evidence than agreeing on a
    span of the wanted type. Measured on the eleventh session's model and weights, closeness to
    the targets on the calibration / test halves 0.866 / 0.772 against 0.825 / 0.772
    (eval/README.md).
    """
    out: list[tuple[Answer, dict]] = []
    used_rules: set[int] = set()
    best = {"model_best": max((m.score for m in model_answers[:TOP]), default=0.0)}
    for j, m in enumerate(model_answers[:TOP]):
        match = None if m.score < AGREE_MIN_MODEL else next(
            (i for i, r in enumerate(rule_answers[:TOP]) if i not in used_rules and f1(m.text, r.text) >= AGREE_F1),
            None)
        top = {"model_top": float(j == 0), "rules_top": float(match == 0), **best}
        if match is None:
            out.append((m, {"model": m.score, "rules": 0.0, "agree": 0.0, **top}))
        else:
            used_rules.add(match)
            r = rule_answers[match]
            out.append((r, {"model": m.score, "rules": r.score, "agree": rules_type_fit(r), **top}))
    for i, r in enumerate(rule_answers[:TOP]):
        if i not in used_rules:
            out.append((r, {"model": 0.0, "rules": r.score, "agree": 0.0, "model_top": 0.0,
                            "rules_top": float(i == 0), **best}))
    return out


class CombinedReader:
    """Reads with the model and the rules, and scores their candidates together.

    Example:
        >>> reader = CombinedReader(model_reader, rule_reader, Combination())
        >>> reader.read(question, hits)[0].text
    """

    name = "combined"

    def __init__(self, model_reader, rule_reader, combination: Combination | None = None,
                 stages: dict[int, float] | None = None, give_up: dict[int, float] | None = None) -> None:
        self.model_reader = model_reader
        self.rule_reader = rule_reader
        self.combination = combination or Combination()
        self.default_threshold = self.combination.threshold
        # Passages read at each stage -> the confidence at which reading stops there. The
        # points are measured with the combination's weights (eval/early_exit.py).
        self.stages = dict(sorted((stages or {}).items()))
        # Passages read -> the confidence below which reading stops there too, and the reader
        # abstains: on both benchmarks a question whose best answer after 3 passages is below
        # the threshold was not lifted above it by passages 4 and 5 often enough to pay for
        # reading them (eval/early_exit.py chooses these points like the exit points).
        self.give_up = {n: t for n, t in (give_up or {}).items() if n in self.stages}

    def read(self, question, hits: Sequence[Hit], passages: int | None = None) -> list[Answer]:
        """Candidates of both readers, scored together, best first. With ``stages``, the top
        passage is read first, then the top 2, and so on, stopping at the first stage whose
        best candidate reaches its exit point, or falls below its give-up point: most questions
        are settled by their top passages, and the span model's time grows with every passage
        read (passages already read are not read again: their model output is cached)."""
        n = passages or self.model_reader.config.passages
        for stage, exit_at in self.stages.items():
            if stage >= min(n, len(hits)):
                break
            early = self._read(question, hits, stage)
            if early and (early[0].score >= exit_at or early[0].score < self.give_up.get(stage, -1.0)):
                return early
        return self._read(question, hits, n)

    def clear_cache(self) -> None:
        self.model_reader.clear_cache()
        self.rule_reader.clear_cache()

    def _read(self, question, hits: Sequence[Hit], passages: int) -> list[Answer]:
        model_answers = group_answers(self.model_reader.read(question, hits, passages))
        rule_answers = group_answers(self.rule_reader.read(question, hits, passages))
        out = []
        for n, (answer, feats) in enumerate(candidates(model_answers, rule_answers)):
            p = self.combination.probability(feats)
            why = Explanation(self.name, features=tuple(feats.items()),
                              terms=(("bias", self.combination.bias), *self.combination.terms(feats).items()))
            out.append(replace(answer, score=p, rank_score=p - TIE_STEP * n, explanation=why))
        out.sort(key=lambda a: -a.rank_score)
        return out
