"""One abstention threshold per reader, chosen on the calibration halves of both benchmarks
together, then reported on their test halves.

    qa eval --questions eval/questions.jsonl --json seeds.json
    qa eval --squad ../shared/bench/squad2-dev-3articles.json --json squad.json
    python eval/joint_threshold.py seeds.json squad.json [--write]

Either benchmark alone is a poor judge: the seed set's calibration half has 9 unanswerable
questions, and on SQuAD's nothing separates the unanswerable ones, so it prefers withholding
everything. Two criteria, each averaged over the two calibration halves:

- ``balanced``: the benchmark's own, the mean of answerable F1 and NoAns accuracy;
- ``closeness``: the combined reader's (``eval/fit_combination.py``), the worse of answerable
  F1 / target and NoAns accuracy / target, capped at 1. The trained reader's own threshold in
  ``qa/reader_model/reader.json`` is chosen by it; ``--write`` stores it there.

Reads the JSON summaries; runs no model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from fit_combination import TARGETS, target_ratio  # noqa: E402
from qa.evaluation import QuestionResult, split, summarize  # noqa: E402

GRID = np.round(np.arange(0.0, 0.8, 0.01), 2)
# The name ``qa eval`` writes as "benchmark", and the target pair it is held to.
TARGET_OF = {"questions": TARGETS["seeds"], "squad2-dev-3articles": TARGETS["squad"]}
CHOSEN_ON = ("calibration halves of eval/questions.jsonl and squad2-dev-3articles: the mean over "
             "the two of the worse of HasAns F1/target and NoAns/target (the combination's rule; "
             "eval/joint_threshold.py)")


def halves(path: str, config: str):
    """A run's results under ``config``, split into calibration and test halves, and the
    benchmark's targets."""
    data = json.load(open(path, encoding="utf-8"))
    rows = [QuestionResult(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()})
            for r in data["per_question"][config]]
    calib, _ = split(rows)
    ids = {r.id for r in calib}
    targets = TARGET_OF.get(data.get("benchmark"), TARGETS["squad"])
    return [r for r in rows if r.id in ids], [r for r in rows if r.id not in ids], targets


def balanced(results, t: float, targets=None) -> float:
    m = summarize(results, t)
    return 0.5 * m["answerable_f1"] + 0.5 * m["unanswerable_accuracy"]


def closeness(results, t: float, targets: tuple[float, float]) -> float:
    m = summarize(results, t)
    return target_ratio(m["answerable_f1"], m["unanswerable_accuracy"], targets)


def choose(sets, criterion) -> float:
    """The threshold with the best mean of ``criterion`` over the calibration halves; the lower
    one on a tie (fewer answers withheld)."""
    return float(max(GRID, key=lambda t: (np.mean([criterion(c, t, tg) for c, _, tg in sets]), -t)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("summaries", nargs="+", help="JSON summaries written by qa eval --json")
    p.add_argument("--write", action="store_true",
                   help="store the trained reader's closeness threshold in qa/reader_model/reader.json")
    args = p.parse_args()
    paths = args.summaries
    print("| reader | criterion | threshold | " + " | ".join(f"{p} test HasAns F1 / NoAns" for p in paths) + " |")
    print("|---|---|---|" + "---|" * len(paths))
    chosen = {}
    for config, reader in (("hybrid-weighted", "combined"), ("hybrid-weighted+trained", "trained"),
                           ("hybrid-weighted+rules", "rules")):
        sets = [halves(p, config) for p in paths]
        for name, criterion in (("balanced", balanced), ("closeness", closeness)):
            best = chosen[reader, name] = choose(sets, criterion)
            cells = []
            for _, test, _ in sets:
                m = summarize(test, best)
                cells.append(f"{m['answerable_f1']:.3f} / {m['unanswerable_accuracy']:.3f}")
            print(f"| {reader} | {name} | {best:.2f} | " + " | ".join(cells) + " |")
    if args.write:
        from qa.span_model import SHIPPED_MODEL_DIR, update_info

        meta = json.loads((SHIPPED_MODEL_DIR / "reader.json").read_text())
        conf = {**meta["confidence"], "threshold": chosen["trained", "closeness"], "threshold_chosen_on": CHOSEN_ON}
        update_info(SHIPPED_MODEL_DIR, confidence=conf)
        print(f"trained reader threshold {chosen['trained', 'closeness']:.2f} written to {SHIPPED_MODEL_DIR}")


if __name__ == "__main__":
    main()
