"""Fit the trained reader's confidence on held-out articles of the training file.

``qa calibrate-reader --data FILE --model DIR`` builds an open corpus of the articles that
training held out (:func:`qa.training.split_dev`), asks every question through the real
pipeline (hybrid retrieval, the model, grouping), and fits a logistic regression that predicts
whether the top answer is right (token F1 >= 0.5 with a gold answer; an unanswerable question
has no right answer). The weights and the abstention threshold go into the model's
``reader.json``; neither benchmark is used.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.neural import FEATURES, Confidence, ModelReader
from qa.span_model import META_FILE
from qa.training import TrainExample

log = logging.getLogger(__name__)

RIGHT_F1 = 0.5


def dev_corpus(examples: Sequence[TrainExample]):
    """Each distinct paragraph a document, as the benchmark's open corpus does."""
    from qa.documents import make_document

    ids: dict[str, str] = {}
    docs = []
    for ex in examples:
        if ex.context not in ids:
            ids[ex.context] = f"dev_{len(ids):04d}"
            docs.append(make_document(ids[ex.context], ex.context))
    return docs


def collect(reader: ModelReader, retriever, examples: Sequence[TrainExample], k: int = 5,
            rules=None) -> list[dict]:
    """Features of the top answer per question, with whether it is right, and its F1.

    With ``rules`` (a rule reader), each row also gets ``rules_conf`` (the rule reader's best
    confidence) and ``rules_agree`` (whether its best answer is the model's), to measure
    whether combining the two readers helps.
    """
    from tqdm import tqdm

    from qa.answers import group_answers
    from qa.metrics import f1

    rows = []
    for ex in tqdm(examples, desc="calibrate", unit="q"):
        hits = retriever.search(ex.question, k=k)
        answers = group_answers(reader.read(ex.question, hits))
        if not answers or answers[0].explanation is None:
            rows.append({"features": dict.fromkeys(FEATURES, 0.0), "f1": 0.0, "right": False,
                         "answerable": ex.answer is not None})
            continue
        top = answers[0]
        feats = {k: float(v) for k, v in top.explanation.features if k in FEATURES}
        if rules is not None:
            from qa.question import analyze

            ra = group_answers(rules.read(analyze(ex.question), hits))
            feats["rules_conf"] = ra[0].score if ra else 0.0
            feats["rules_agree"] = float(bool(ra) and f1(ra[0].text, top.text) >= 0.5)
        score = max((f1(top.text, g) for g in ex.answers), default=0.0) if ex.answer else 0.0
        rows.append({"features": feats, "f1": score, "right": score >= RIGHT_F1,
                     "answerable": ex.answer is not None})
    return rows


def choose_threshold(probs: np.ndarray, rows: Sequence[dict]) -> float:
    """The cut that maximises the mean of answerable F1 and NoAns accuracy (the benchmark's
    criterion), taken midway between neighbouring scores."""
    best, best_t = -1.0, 0.5
    cuts = np.unique(probs)
    mids = np.concatenate([[0.0], (cuts[:-1] + cuts[1:]) / 2, [1.0]])
    has = np.array([r["answerable"] for r in rows])
    f1s = np.array([r["f1"] for r in rows])
    for t in mids:
        keep = probs >= t
        has_f1 = float(np.mean(np.where(keep[has], f1s[has], 0.0))) if has.any() else 0.0
        noans = float(np.mean(~keep[~has])) if (~has).any() else 1.0
        if (has_f1 + noans) / 2 > best:
            best, best_t = (has_f1 + noans) / 2, float(t)
    return best_t


def fit(rows: Sequence[dict], features: Sequence[str] = FEATURES) -> tuple[Confidence, dict]:
    """Logistic regression over the features; returns the confidence and its figures."""
    from sklearn.linear_model import LogisticRegression

    from qa.metrics import roc_auc

    x = np.array([[r["features"].get(f, 0.0) for f in features] for r in rows])
    y = np.array([r["right"] for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    probs = model.predict_proba(x)[:, 1]
    threshold = choose_threshold(probs, rows)
    conf = Confidence(tuple(zip(features, map(float, model.coef_[0]))), float(model.intercept_[0]),
                      threshold)
    answerable = [r["answerable"] for r in rows]
    has = np.array(answerable)
    f1s = np.array([r["f1"] for r in rows])
    keep = probs >= threshold
    roc = []
    for t in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(threshold, 3)):
        k = probs >= t
        roc.append({"threshold": t, "answered_answerable": float(k[has].mean()),
                    "answered_unanswerable": float(k[~has].mean()),
                    "right_answered": float(k[y].mean()) if y.any() else 0.0,
                    "wrong_answered": float(k[~y].mean()) if (~y).any() else 0.0})
    figures = {
        "hasans_f1_at_threshold": float(np.where(keep[has], f1s[has], 0).mean()),
        "noans_accuracy_at_threshold": float((~keep[~has]).mean()),
        "hasans_f1_never_abstaining": float(f1s[has].mean()),
        "roc": sorted(roc, key=lambda r: r["threshold"]),
        "questions": len(rows),
        "auc_right": roc_auc(list(probs), list(y)),
        "auc_answerable": roc_auc(list(probs), answerable),
        "auc_answerable_margin_only": roc_auc([r["features"]["margin"] for r in rows], answerable),
        "threshold": threshold,
    }
    return conf, figures


def calibrate(data: str | Path, model_dir: str | Path, dev_articles: int = 6,
              limit: int | None = None) -> dict:
    """Fit the confidence of the model in ``model_dir`` and write it into its reader.json.

    ``limit`` keeps only the first questions (and their paragraphs), for smoke runs.
    """
    from qa.retriever import Retriever
    from qa.training import load_examples, split_dev

    _, dev = split_dev(load_examples(data), dev_articles)
    dev = dev[:limit] if limit else dev
    retriever = Retriever.from_documents(dev_corpus(dev))
    reader = ModelReader(retriever.documents, model=model_dir, annotations=retriever.annotations)
    rows = collect(reader, retriever, dev)
    conf, figures = fit(rows)
    meta_path = Path(model_dir) / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["confidence"] = conf.to_json()
    meta["calibration"] = figures
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_path)
    return {"confidence": conf.to_json(), **figures}
