"""Fit the trained reader's abstention on held-out articles of the training file.

``qa calibrate-reader --data FILE --model DIR`` works on the articles that training held out
(:func:`qa.training.split_dev`), split in two halves by article:

1. **Answerability head.** On half A, each question with its own paragraph: a logistic
   regression on the fine-tuned encoder's ``[CLS]`` vector predicts whether the paragraph holds
   the answer (the span model's own null score separates this poorly).
2. **Confidence.** On half B, asked of an open corpus of all held-out paragraphs through the real
   pipeline (hybrid retrieval, the model with the head, grouping): a logistic regression over
   the span's evidence (:data:`qa.neural.FEATURES`) predicts whether the top answer is right
   (token F1 >= 0.5 with a gold answer; an unanswerable question has no right answer), and the
   abstention threshold is chosen on it.

Both go into the model's ``reader.json``; neither benchmark is used.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.neural import FEATURES, Confidence, ModelReader
from qa.span_model import read_info, update_info
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


def fit_verifier(reader: ModelReader, retriever, examples: Sequence[TrainExample],
                 k: int = 5, trained: dict | None = None) -> tuple[dict, dict]:
    """The answerability head: on the [CLS] vector of each retrieved window, whether that
    window holds the question's answer (as the reader meets windows in an open corpus); see
    :func:`choose_head`."""
    from tqdm import tqdm

    xs, ys, groups = [], [], []
    for qi, ex in enumerate(tqdm(examples, desc="verifier", unit="q")):
        hits = retriever.search(ex.question, k=k)
        if not hits:
            continue
        cls = reader.cls_vectors(ex.question, [h.chunk.text for h in hits])
        for h, vec in zip(hits, cls):
            holds = ex.answer is not None and any(a and a in h.chunk.text for a in ex.answers) \
                and retriever.documents[h.chunk.doc_id].text.strip() == ex.context.strip()
            xs.append(vec)
            ys.append(holds)
            groups.append(qi)
    return choose_head(np.stack(xs), np.array(ys), groups, trained)


def choose_head(x: np.ndarray, y: np.ndarray, groups: Sequence[int], trained: dict | None = None) -> tuple[dict, dict]:
    """Logistic regression of ``y`` on ``x``, its regularisation chosen by 5-fold cross-validated
    ROC AUC (a question's windows in one fold). A head trained with the model (``trained``,
    from ``qa train-reader --answerability``) is kept instead when it ranks the same windows at
    least as well as the refit does on held-out folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    from qa.metrics import roc_auc

    folds = GroupKFold(n_splits=5)
    scores = {c: float(np.mean(cross_val_score(LogisticRegression(C=c, max_iter=2000), x, y,
                                               groups=groups, cv=folds, scoring="roc_auc")))
              for c in (0.01, 0.1, 1.0)}
    best_c = max(scores, key=scores.get)
    figures = {"verifier_cv_auc": scores[best_c], "verifier_c": best_c, "verifier_windows": len(y),
               "verifier_positive_share": float(y.mean())}
    if trained is not None:
        w, b = np.asarray(trained["weights"], dtype=np.float64), float(trained["bias"])
        figures["verifier_trained_auc"] = roc_auc(list(x @ w + b), list(y))
        if figures["verifier_trained_auc"] >= scores[best_c]:
            figures["verifier_kept"] = "trained"
            return {"weights": [float(v) for v in w], "bias": b,
                    "fitted_on": trained.get("fitted_on", "training")}, figures
    head = LogisticRegression(C=best_c, max_iter=2000).fit(x, y)
    figures["verifier_kept"] = "refit"
    return ({"weights": [float(w) for w in head.coef_[0]], "bias": float(head.intercept_[0]),
             "fitted_on": "calibration: held-out half A, retrieved windows"}, figures)


def fit_combination(reader: ModelReader, retriever, examples: Sequence[TrainExample], k: int = 5):
    """Fit the combined reader's candidate score (model confidence, rule confidence, agreement)
    and its threshold on held-out questions."""
    from sklearn.linear_model import LogisticRegression
    from tqdm import tqdm

    from qa.answers import group_answers
    from qa.assistant import load_reader
    from qa.combined import Combination, candidates
    from qa.config import ReaderConfig
    from qa.metrics import f1, roc_auc
    from qa.question import analyze
    from qa.rules.pool import POOL

    rules = load_reader(retriever, ReaderConfig(reader="rules"))
    per_question = []
    for ex in tqdm(examples, desc="combine", unit="q"):
        q = analyze(ex.question)
        pool = retriever.search(ex.question, k=max(k, POOL))  # as the Assistant reads
        cands = candidates(group_answers(reader.read(q, pool)), group_answers(rules.read(q, pool)))
        per_question.append([(feats, max((f1(a.text, g) for g in ex.answers), default=0.0)
                              if ex.answer else 0.0) for a, feats in cands])
    flat = [(f, score) for cands in per_question for f, score in cands]
    x = np.array([[f["model"], f["rules"], f["agree"]] for f, _ in flat])
    y = np.array([score >= RIGHT_F1 for _, score in flat])
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    comb = Combination(bias=float(lr.intercept_[0]), model=float(lr.coef_[0][0]),
                       rules=float(lr.coef_[0][1]), agree=float(lr.coef_[0][2]))
    tops = []
    for ex, cands in zip(examples, per_question):
        best = max(cands, key=lambda c: comb.probability(c[0]), default=None)
        tops.append({"p": comb.probability(best[0]) if best else 0.0, "f1": best[1] if best else 0.0,
                     "answerable": ex.answer is not None})
    probs = np.array([t["p"] for t in tops])
    threshold = choose_threshold(probs, tops)
    comb = dataclasses.replace(comb, threshold=threshold)
    has = np.array([t["answerable"] for t in tops])
    f1s = np.array([t["f1"] for t in tops])
    keep = probs >= threshold
    return comb, {
        "auc_answerable": roc_auc(list(probs), list(has)),
        "hasans_f1_at_threshold": float(np.where(keep[has], f1s[has], 0).mean()),
        "noans_accuracy_at_threshold": float((~keep[~has]).mean()),
        "hasans_f1_never_abstaining": float(f1s[has].mean()),
        "threshold": threshold,
    }


def prepare(data: str | Path, model_dir: str | Path, dev_articles: int = 6, limit: int | None = None):
    """The held-out halves, an open corpus of their paragraphs, and the reader with its
    answerability head fitted on half A. Returns (reader, retriever, half_b, head, figures)."""
    from qa.retriever import Retriever
    from qa.training import load_examples, split_dev

    _, dev = split_dev(load_examples(data), dev_articles)
    titles = sorted({e.article for e in dev}, key=lambda t: zlib.crc32(t.encode()))
    half_a = set(titles[: len(titles) // 2])
    a = [e for e in dev if e.article in half_a][:limit]
    b = [e for e in dev if e.article not in half_a][:limit]
    retriever = Retriever.from_documents(dev_corpus(a + b if limit else dev))
    reader = ModelReader(retriever.documents, model=model_dir, annotations=retriever.annotations)
    # Start from the model alone, whatever an earlier calibration left in reader.json; only a
    # head trained with the model is a candidate to keep.
    saved = read_info(model_dir).get("verifier") or {}
    trained = saved if str(saved.get("fitted_on", "")).startswith("training") else None
    reader.confidence, reader.verifier = Confidence(), None
    verifier, vfig = fit_verifier(reader, retriever, a, trained=trained)
    reader.verifier = (np.asarray(verifier["weights"], dtype=np.float32), verifier["bias"])
    return reader, retriever, b, verifier, vfig


def calibrate(data: str | Path, model_dir: str | Path, dev_articles: int = 6,
              limit: int | None = None) -> dict:
    """Fit the answerability head and the confidence of the model in ``model_dir``; write both
    into its reader.json. ``limit`` keeps only the first questions of each half (smoke runs).
    """
    reader, retriever, b, verifier, vfig = prepare(data, model_dir, dev_articles, limit)
    rows = collect(reader, retriever, b)
    conf, figures = fit(rows)
    figures.update(vfig)
    reader.confidence = conf
    reader.default_threshold = conf.threshold
    combination, cfig = fit_combination(reader, retriever, b)
    figures["combined"] = cfig
    update_info(model_dir, verifier=verifier, confidence=conf.to_json(),
                combination=dataclasses.asdict(combination), calibration=figures)
    return {"confidence": conf.to_json(), **figures}


def benchmark_script(description: str, cache: str, record, write_help: str):
    """The command line of an eval script that fits on both benchmarks (``--squad``,
    ``--cache``, ``--write``): its parsed arguments and :func:`benchmark_sets`."""
    import argparse

    from qa.paths import REPO_ROOT

    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", default=str(REPO_ROOT.parent / "shared/bench/squad2-dev-3articles.json"))
    p.add_argument("--cache", default=cache, help="answers recorded by an earlier run (reused when present)")
    p.add_argument("--write", action="store_true", help=write_help)
    args = p.parse_args()
    return args, benchmark_sets(record, Path(args.cache), args.squad)


def benchmark_sets(record, cache: Path, squad: str | Path) -> dict:
    """What ``record(documents, questions)`` gives for each benchmark (the seed set, the SQuAD
    sample), read from ``cache`` when it is there, else recorded and saved there: the eval
    scripts that fit on the calibration halves answer every question once and refit from it."""
    from qa import evaluation as ev
    from qa.documents import load_folder
    from qa.paths import REPO_ROOT

    if cache.is_file():
        return json.loads(cache.read_text())
    sets = {"seeds": record(load_folder(REPO_ROOT / "seeds"), ev.load_questions(REPO_ROOT / "eval" / "questions.jsonl")),
            "squad": record(*ev.load_squad(squad))}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(sets))
    return sets
