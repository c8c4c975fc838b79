"""Abstention features of the trained reader, measured on held-out training articles.

    python eval/reader_experiments.py [MODEL_DIR]

Compares the confidence fitted on the model's own evidence with one that also uses the rule
reader (its confidence and whether it agrees), by ROC AUC and by the benchmark criterion on the
calibration set. Writes nothing; prints a table for eval/README.md.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.assistant import load_reader  # noqa: E402
from qa.calibration import collect, fit, prepare  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402
from qa.neural import FEATURES  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "train" / "squad2-train-mix.json"


def main() -> None:
    model_dir = sys.argv[1] if len(sys.argv) > 1 else "qa/reader_model"
    reader, retriever, half_b, _, vfig = prepare(DATA, model_dir)
    print(f"answerability head: 5-fold AUC {vfig['verifier_cv_auc']:.3f} on half A")
    rules = load_reader(retriever, ReaderConfig(reader="rules"))
    rows = collect(reader, retriever, half_b, rules=rules)
    print("| features | AUC (right) | AUC (answerable) | HasAns F1 | NoAns acc |")
    print("|---|---|---|---|---|")
    no_head = tuple(f for f in FEATURES if f != "verifier")
    for name, feats in [("margin only", ("margin",)), ("head only", ("verifier",)),
                        ("model + retrieval, no head", no_head), ("model + retrieval + head", FEATURES),
                        ("model + retrieval + rules", (*FEATURES, "rules_conf", "rules_agree")),
                        ("rules only", ("rules_conf",))]:
        _, fig = fit(rows, feats)
        print(f"| {name} | {fig['auc_right']:.3f} | {fig['auc_answerable']:.3f} | "
              f"{fig['hasans_f1_at_threshold']:.3f} | {fig['noans_accuracy_at_threshold']:.3f} |")


if __name__ == "__main__":
    main()
