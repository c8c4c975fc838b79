"""The shipped reader in int8 against fp32, on both benchmarks (no abstention, so the span
choice alone is compared).

    python eval/int8_check.py
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa import evaluation as ev  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402
from qa.documents import load_folder  # noqa: E402
from qa.metrics import answer_scores, mean, percentile, roc_auc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "bench" / "squad2-dev-3articles.json"


def main() -> None:
    sets = {"seed set": (load_folder(ROOT / "seeds"), ev.load_questions(ROOT / "eval" / "questions.jsonl")),
            "SQuAD sample": ev.load_squad(SQUAD)}
    print("| benchmark | form | HasAns F1 (never abstaining) | answerable ROC AUC | ask p50 ms | ask p95 ms |")
    print("|---|---|---|---|---|---|")
    for name, (docs, qs) in sets.items():
        for form, quantize in (("fp32", False), ("int8", True)):
            summary = ev.run_benchmark(
                docs, qs, runs=[ev.RunConfig("trained", reader="trained")],
                reader_config=ReaderConfig(reader="trained", quantize=quantize), name=name)
            rows = summary["per_question"]["trained"]
            has = [answer_scores(r["prediction"], r["answers"])[1] for r in rows if r["answers"]]
            auc = roc_auc([r["score"] or 0.0 for r in rows], [bool(r["answers"]) for r in rows])
            lat = [r["retrieval_ms"] + r["reading_ms"] for r in rows]
            print(f"| {name} | {form} | {mean(has):.3f} | {auc:.3f} | {percentile(lat, 50):.1f} | "
                  f"{percentile(lat, 95):.1f} |")


if __name__ == "__main__":
    main()
