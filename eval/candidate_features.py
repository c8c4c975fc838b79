"""More features for the combined reader's candidate score, measured (eighth and tenth sessions).

    python eval/candidate_features.py        # records both benchmarks once (~3 min), then prints

Why: the combined reader picks among about five candidates (the span model's best span of
each passage, the rule reader's best spans). The right answer is among them for 0.79 / 0.75 of
the answerable SQuAD questions (calibration / test half), yet the pick is right far less often.
Two signals the score does not see yet:

* ``tree``: how close the candidate sits, in the dependency parse of its sentence, to the
  question's words found there (the SQuAD paper's logistic baseline used such paths).
  "Which company launched the Zhinao AI model?": "360 Security Technology" is the subject of
  "launched", "iFlytek" the subject of "announced".
* ``mm`` and ``gap``: the span model's own score for every candidate, the rule reader's spans
  included (today a rule span the model did not pick gets a model confidence of 0): its
  start+end logit over the null score, and how far it lies below the best span of its window.

Two more, measured in the tenth session:

* ``fit``: how well the candidate's type fits what the question asks for (the rule reader's
  type fit; for a span only the model found, its entity type against the question's).
  "What share of the world's LLMs did China possess?": the model's "130" agrees with a rule
  span of the wrong type and beats the rules' "40%".
* ``rrank``: the rule reader's ranking score, which adds closeness to the question's words to
  the confidence the combination sees.

Each variant is refitted on the calibration halves of both benchmarks, as
``eval/fit_combination.py`` does; the figures are for the best candidate of each question
over the five passages (no staged reading): HasAns F1 at the NoAns target (0.90 seeds, 0.60
SQuAD), the area under the HasAns-F1-against-NoAns curve, and closeness to the targets.
"""
from __future__ import annotations

import functools
import math
import sys
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

import fit_combination as fc  # noqa: E402
from qa.answers import group_answers  # noqa: E402
from qa.calibration import benchmark_script  # noqa: E402
from qa.combined import FEATURES, Combination, candidates, rules_type_fit  # noqa: E402
from qa.metrics import answer_scores  # noqa: E402
from qa.span_model import pad_batch, windows  # noqa: E402
from qa.tokens import tokenize  # noqa: E402

TARGET_NOANS = {"seeds": 0.90, "squad": 0.60}


@functools.lru_cache(maxsize=4096)
def _parse(sentence: str):
    from qa.annotate import load_nlp

    nlp = load_nlp()
    with nlp.select_pipes(disable=["ner"]):
        return nlp(sentence)


def tree_distance(question: str, answer) -> float | None:
    """Mean, over the question's terms found in the answer's sentence, of the fewest parse
    edges from the answer to that term; ``None`` when no term is there."""
    if not answer.sentence or answer.sentence_span is None:
        return None
    doc = _parse(answer.sentence)
    a0 = answer.span.start - answer.sentence_span.start
    a1 = answer.span.end - answer.sentence_span.start
    inside = [t.i for t in doc if t.idx < a1 and t.idx + len(t.text) > a0]
    terms = set(tokenize(question)) - set(tokenize(answer.text))
    where: dict[str, list[int]] = {}
    for t in doc:
        if t.i not in inside:
            for term in set(tokenize(t.text)) & terms:
                where.setdefault(term, []).append(t.i)
    if not inside or not where:
        return None
    dist = dict.fromkeys(inside, 0)
    todo = deque(inside)
    while todo:
        i = todo.popleft()
        for nb in (doc[i].head, *doc[i].children):
            if nb.i not in dist:
                dist[nb.i] = dist[i] + 1
                todo.append(nb.i)
    return float(np.mean([min(dist.get(i, 99) for i in idx) for idx in where.values()]))


def model_span_scores(model_reader, question: str, hits, answer, cache: dict) -> tuple[float, float] | None:
    """The span model's (margin over null, gap below its window's best span) for any span of a
    passage it read; the best window when the passage has several."""
    best = None
    for n, hit in enumerate(hits):
        c = hit.chunk
        if c.doc_id != answer.doc_id or not c.start <= answer.span.start < answer.span.end <= c.end:
            continue
        if n not in cache:
            ws = windows(model_reader.tokenizer, question, [c.text], max_length=model_reader.config.max_tokens,
                         stride=model_reader.config.max_tokens // 3)
            arrays = pad_batch(ws)
            if not any(w.token_type_ids for w in ws):
                arrays.pop("token_type_ids")
            s, e, _ = model_reader._onnx.run(arrays)
            cache[n] = (ws, s, e)
        ws, s, e = cache[n]
        a0, a1 = answer.span.start - c.start, answer.span.end - c.start
        for i, w in enumerate(ws):
            toks = [j for j, o in enumerate(w.offsets) if o is not None and o[0] < a1 and o[1] > a0]
            if not toks:
                continue
            ctx = [j for j, o in enumerate(w.offsets) if o is not None]
            score = float(s[i][toks[0]] + e[i][toks[-1]])
            margin, gap = score - float(s[i][0] + e[i][0]), float(s[i][ctx].max() + e[i][ctx].max()) - score
            if best is None or margin > best[0]:
                best = (margin, gap)
    return best


class Recorder(fc.Recorder):
    """Records each candidate's features, the two new ones included."""

    def read(self, question, hits, passages=None):
        model = group_answers(self.model_reader.read(question, hits, passages))
        rules = group_answers(self.rule_reader.read(question, hits, passages))
        text = getattr(question, "text", question)
        read = list(hits)[: passages or self.model_reader.config.passages]
        cache: dict = {}
        self.last = []
        for a, f in candidates(model, rules):
            scored = model_span_scores(self.model_reader, text, read, a, cache)
            self.last.append((a, {**f, "tree_d": tree_distance(text, a), "span": scored, **type_features(a, f)}))
        return fc.CombinedReader.read(self, question, hits, passages)


def type_features(answer, f: dict) -> dict:
    """``fit``: how well the candidate's type fits the question, in [0, 1] (the rule reader's
    type fit when it holds the candidate; else the model's +1/0/-1 mapped to 1/0.5/0).
    ``rrank``: the rule reader's ranking score, which adds closeness to the question's words
    to its confidence (0 for a candidate only the model found)."""
    feats = dict(answer.explanation.features) if answer.explanation else {}
    if f["rules"]:
        fit = rules_type_fit(answer)
    else:
        fit = (float(feats.get("type_fit", 0.0)) + 1.0) / 2.0
    return {"fit": float(fit), "rrank": float(feats.get("rank_score", 0.0)) if f["rules"] else 0.0}


def features(f: dict) -> dict:
    d, span = f.get("tree_d"), f.get("span")
    margin, gap = (span if span else (-15.0, 20.0))
    return {**{k: f[k] for k in FEATURES}, "tree": 1.0 / (1.0 + d) if d is not None else 0.0,
            "mm": max(-15.0, min(15.0, margin)) / 10, "gap": min(20.0, gap) / 10,
            "fit": f.get("fit", 0.5), "rrank": f.get("rrank", 0.0)}


class Fitted:
    """A logistic candidate score over any features (``Combination``'s interface)."""

    def __init__(self, sets: dict, names: list[str]) -> None:
        from sklearn.linear_model import LogisticRegression

        x, y, w = [], [], []
        for rows in sets.values():
            calib = [r for r in rows if r["calib"]]
            for r in calib:
                for text, f in r["cands"]:
                    x.append([f[n] for n in names])
                    y.append(bool(r["answers"]) and answer_scores(text, r["answers"])[1] >= fc.RIGHT_F1)
                    w.append(1.0 / len(calib))
        w = np.array(w) * len(w) / np.sum(w)
        lr = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(x), np.array(y), sample_weight=w)
        self.names, self.bias, self.coef = names, float(lr.intercept_[0]), lr.coef_[0]

    def probability(self, f: dict) -> float:
        z = self.bias + sum(c * f[n] for n, c in zip(self.names, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def curve_figures(rows: list[dict], comb, noans_target: float) -> tuple[float, float]:
    """HasAns F1 at the best threshold that keeps NoAns accuracy at the target, and the area
    under HasAns F1 against NoAns accuracy over all thresholds."""
    best = []
    for r in rows:
        c = max(r["cands"], key=lambda c: comb.probability(c[1]), default=None)
        right = answer_scores(c[0], r["answers"])[1] if c and r["answers"] else 0.0
        best.append((comb.probability(c[1]) if c else 0.0, right, bool(r["answers"])))
    has_n = max(1, sum(a for _, _, a in best))
    no_n = max(1, len(best) - sum(a for _, _, a in best))
    points = []
    for t in sorted({p for p, _, _ in best} | {1.01}):
        points.append((sum(1 for p, _, a in best if not a and p < t) / no_n,
                       sum(f for p, f, a in best if a and p >= t) / has_n))
    at_target = max((h for n, h in points if n >= noans_target), default=0.0)
    # The best HasAns F1 reachable at each NoAns accuracy (thresholds that only move answered
    # questions keep NoAns the same).
    envelope = sorted({n: max(h for m, h in points if m == n) for n, _ in points}.items())
    area = sum((n1 - n0) * (h0 + h1) / 2 for (n0, h0), (n1, h1) in zip(envelope, envelope[1:]))
    return at_target, area


def main() -> None:
    import json

    record = functools.partial(fc.record, recorder=Recorder)
    _, sets = benchmark_script(__doc__, "eval/reports/candidate-features.json", record, "not used here")
    sets = {k: [{**r, "cands": [(t, features(f)) for t, f in r["cands"]]} for r in v] for k, v in sets.items()}
    for name, rows in sets.items():
        for half in (True, False):
            ans = [r for r in rows if r["calib"] == half and r["answers"]]
            oracle = np.mean([max([answer_scores(t, r["answers"])[1] for t, _ in r["cands"]], default=0.0) for r in ans])
            print(f"{name} {'calibration' if half else 'test'} half: best candidate's F1 {oracle:.3f}")
    shipped = Combination.from_json(json.loads((ROOT / "qa/reader_model/reader.json").read_text())["combination"])
    variants = {"shipped weights": shipped}
    base = list(FEATURES[:3])
    for extra in ([], ["tree"], ["mm"], ["mm", "gap"], ["tree", "mm", "gap"], ["fit"], ["rrank"], ["fit", "rrank"]):
        variants["refit: " + " + ".join(base + extra)] = Fitted(sets, base + extra)
    grid = fc.GRID
    print("| weights | seeds calib | seeds test | SQuAD calib | SQuAD test | closeness calib / test |")
    print("|---|---|---|---|---|---|")
    for label, comb in variants.items():
        t = comb.threshold if label == "shipped weights" else float(
            max(grid, key=lambda t: (fc.closeness(sets, comb, t, True), -t)))
        cells = [curve_figures([r for r in rows if r["calib"] == half], comb, TARGET_NOANS[name])
                 for name, rows in sets.items() for half in (True, False)]
        print(f"| {label} | " + " | ".join(f"{h:.3f} ({a:.3f})" for h, a in cells)
              + f" | {fc.closeness(sets, comb, t, True):.3f} / {fc.closeness(sets, comb, t, False):.3f} |")


if __name__ == "__main__":
    main()
