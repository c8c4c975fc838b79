"""One abstention threshold per reader, chosen on the calibration halves of both benchmarks
together, then reported on their test halves.

    qa eval --questions eval/questions.jsonl --json seeds.json
    qa eval --squad ../shared/bench/squad2-dev-3articles.json --json squad.json
    python eval/joint_threshold.py seeds.json squad.json

Either benchmark alone is a poor judge: the seed set's calibration half has 9 unanswerable
questions, and on SQuAD's nothing separates the unanswerable ones, so it prefers withholding
everything. The criterion is the benchmark's own (mean of answerable F1 and NoAns accuracy),
averaged over the two calibration halves. Reads the JSON summaries; runs no model.
"""
from __future__ import annotations

import json
import sys

import numpy as np

from qa.evaluation import QuestionResult, split, summarize


def halves(path: str, config: str):
    data = json.load(open(path, encoding="utf-8"))
    rows = [QuestionResult(**{k: tuple(v) if isinstance(v, list) else v for k, v in r.items()})
            for r in data["per_question"][config]]
    calib, _ = split(rows)
    ids = {r.id for r in calib}
    return [r for r in rows if r.id in ids], [r for r in rows if r.id not in ids]


def balanced(results, t: float) -> float:
    m = summarize(results, t)
    return 0.5 * m["answerable_f1"] + 0.5 * m["unanswerable_accuracy"]


def main() -> None:
    paths = sys.argv[1:]
    print("| reader | threshold | " + " | ".join(f"{p} test HasAns F1 / NoAns" for p in paths) + " |")
    print("|---|---|" + "---|" * len(paths))
    for config, reader in (("hybrid-weighted", "combined"), ("hybrid-weighted+trained", "trained"),
                           ("hybrid-weighted+rules", "rules")):
        sets = [halves(p, config) for p in paths]
        grid = np.round(np.arange(0.0, 0.8, 0.01), 2)
        best = max(grid, key=lambda t: np.mean([balanced(c, t) for c, _ in sets]))
        cells = []
        for _, test in sets:
            m = summarize(test, best)
            cells.append(f"{m['answerable_f1']:.3f} / {m['unanswerable_accuracy']:.3f}")
        print(f"| {reader} | {best:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
