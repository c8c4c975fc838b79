"""Sweep chunk size and dense weight on the calibration half of the question set.

Usage: python eval/calibrate.py [--questions eval/questions.jsonl]
Prints, per setting, calibration-half and test-half figures (quality only; time the chosen
setting with `qa eval`).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from qa.config import ChunkConfig, RetrieverConfig
from qa.documents import load_folder
from qa.evaluation import RunConfig, load_questions, run_benchmark, split

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    ap.add_argument("--corpus", default=str(ROOT / "seeds"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    docs = load_folder(args.corpus)
    qs = load_questions(args.questions)
    calib, test = split(qs)
    print("| size | overlap | dense weight | calib HasAns F1 | calib MRR | test HasAns F1 | test MRR |")
    print("|---|---|---|---|---|---|---|")
    for size, overlap in [(200, 50), (400, 100), (800, 150)]:
        cfg = RetrieverConfig(chunk=ChunkConfig(size=size, overlap=overlap))
        for weight in (0.3, 0.5, 0.7):
            run = [RunConfig("hybrid-weighted")]
            c = run_benchmark(docs, calib, runs=run, retriever_config=RetrieverConfig(
                chunk=cfg.chunk, dense_weight=weight), name="calib")
            t = run_benchmark(docs, test, runs=run, retriever_config=RetrieverConfig(
                chunk=cfg.chunk, dense_weight=weight), name="test")
            print(f"| {size} | {overlap} | {weight} | {c['answerable_f1']:.3f} | {c['mrr']:.3f} "
                  f"| {t['answerable_f1']:.3f} | {t['mrr']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
