"""Score saved reader models on the training file's held-out articles, as the learning curve does.

    python eval/reader_dev.py qa/reader_model runs/neg1/model [--questions 400] [--distractors 2]

Prints, per model, HasAns F1 reading each question's own paragraph (never abstaining), the
null-margin ROC AUC, and HasAns F1 reading it beside its nearest other paragraphs of the same
article (``distractor_f1``): how well the model picks the right passage, as in use. The held-out
articles are the ones ``qa train-reader`` never trains on; no benchmark question is used.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.training import TrainConfig, _training_data, evaluate_dev  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--data", default=str(ROOT.parent / "shared/train/squad2-train-mix.json"))
    p.add_argument("--questions", type=int, default=400)
    p.add_argument("--distractors", type=int, default=2)
    args = p.parse_args()
    from qa.span_model import load_model, tokenizer_for

    tok = tokenizer_for()
    cfg = TrainConfig(dev_questions=args.questions, distractors=args.distractors)
    _, _, dev, pool = _training_data(args.data, replace(cfg, negatives=0), tok)
    for path in args.models:
        model, _ = load_model(path)
        print(json.dumps({"model": path, **evaluate_dev(model, tok, dev, cfg, pool)}), flush=True)


if __name__ == "__main__":
    main()
