"""Choose the span model's length penalty on the training file's held-out articles.

    python eval/span_length.py            # figures only
    python eval/span_length.py --write    # also store the choice in qa/reader_model/reader.json

Why: on the SQuAD sample, the model's partly right answers are longer than the gold answer
twice as often as shorter ("King Charles III of West Francia" for "King Charles III"). A
window's span is chosen by its start+end logit; with a penalty, ``penalty`` logits are taken off
per token beyond the first, so that a shorter span wins when the two are close
(``qa.span_model.best_span``). The score kept is the span's own logit, so the confidence's
calibration does not move.

Every answerable question of the held-out articles (the ones ``qa train-reader`` never trains
on; no benchmark question) is read with its own paragraph once; each penalty then decodes the
same logits. The penalty with the best HasAns F1 is chosen (ties: the smallest), and written
only if it beats no penalty. The two halves of the questions (by a hash of their id) are
printed so that a gain carried by one half shows.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.span_model import SHIPPED_MODEL_DIR, best_span, pad_batch, update_info, windows  # noqa: E402

GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)


def read_logits(model_dir: Path, data: Path) -> list:
    """(question, windows, start logits, end logits) of every answerable held-out question."""
    import torch
    from tqdm import tqdm

    from qa.span_model import load_model, tokenizer_for
    from qa.training import TrainConfig, _training_data

    tok = tokenizer_for()
    cfg = TrainConfig(dev_questions=10**9)
    _, _, dev, _ = _training_data(str(data), dataclasses.replace(cfg, negatives=0), tok)
    model, _ = load_model(model_dir)
    model.eval()
    out = []
    with torch.inference_mode():
        for ex in tqdm([e for e in dev if e.answer], unit="q"):
            ws = windows(tok, ex.question, [ex.context], cfg.max_length, cfg.stride)
            res = model(**{k: torch.from_numpy(v) for k, v in pad_batch(ws).items()})
            out.append((ex, ws, res.start_logits.float().numpy(), res.end_logits.float().numpy()))
    return out


def f1_at(read: list, penalty: float) -> tuple[float, float, float]:
    """HasAns F1 (never abstaining) over all questions and over each half."""
    from qa.metrics import f1

    halves: dict[int, list[float]] = {0: [], 1: []}
    for ex, ws, s, e in read:
        found = [g for i, w in enumerate(ws) if (g := best_span(w, s[i], e[i], length_penalty=penalty))]
        # Across windows the highest span logit wins, as in training's dev scoring (the reader
        # ranks windows by its calibrated confidence).
        g = max(found, key=lambda g: g.score, default=None)
        pred = ex.context[g.start:g.end] if g else ""
        halves[zlib.crc32(ex.qid.encode()) % 2].append(max(f1(pred, a) for a in ex.answers))
    both = halves[0] + halves[1]
    return float(np.mean(both)), float(np.mean(halves[0])), float(np.mean(halves[1]))


def choose(scores: dict[float, float]) -> float:
    """The penalty with the best F1; ties go to the smallest."""
    return max(sorted(scores), key=lambda p: (round(scores[p], 6), -p))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(SHIPPED_MODEL_DIR))
    p.add_argument("--data", default=str(ROOT.parent / "shared/train/squad2-train-mix.json"))
    p.add_argument("--write", action="store_true", help="store the choice in the model's reader.json")
    args = p.parse_args()
    read = read_logits(Path(args.model), Path(args.data))
    print(f"{len(read)} answerable held-out questions, own paragraph, never abstaining")
    print("| length penalty | HasAns F1 | half A | half B |\n|---|---|---|---|")
    scores = {}
    for penalty in GRID:
        all_, a, b = f1_at(read, penalty)
        scores[penalty] = all_
        print(f"| {penalty:.2f} | {all_:.4f} | {a:.4f} | {b:.4f} |")
    best = choose(scores)
    print(f"chosen: {best}")
    if args.write and best > 0:
        update_info(Path(args.model), decoding={
            "length_penalty": best,
            "chosen_on": f"HasAns F1 on {len(read)} answerable questions of the held-out training articles "
                         f"(eval/span_length.py)"})
        print(f"written to {Path(args.model) / 'reader.json'}")


if __name__ == "__main__":
    main()
