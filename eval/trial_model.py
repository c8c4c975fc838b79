"""Measure a newly trained span model through the whole pipeline, beside the shipped one.

    python -m qa.training --data ../shared/train/squad2-train-mix.json --out runs/X ...  # CPU or GPU
    python eval/trial_model.py runs/X/model          # 7-15 minutes on 2 cores

Why: a model that reads its own paragraph better (the learning curve) has more than once read
the open corpus worse once its confidence and the combination with the rules were fitted
(eval/README.md, fifth to ninth sessions). This runs that whole comparison in one command, the
way the shipped model was measured:

1. copies the model to ``runs/X/trial`` (the trained folder is left as it is), giving it the
   shipped reader's combination weights and stage exit points;
2. fits its answerability head and confidence on the held-out articles of the training file
   (``qa calibrate-reader``), as for the shipped model;
3. answers both benchmarks with the combined reader and the trial model, recording every
   candidate (``eval/fit_combination.py``), and prints, beside the shipped model's figures,
   HasAns F1 / NoAns accuracy on each half at the operating threshold, with the shipped
   combination weights, refitted on the calibration halves, and with ``model_best``'s weight
   searched again (as ``eval/fit_combination.py`` does), closeness to the targets, and how many
   questions each row answers better and worse than the shipped reader on each half (closeness
   weighs the seed set's 49-question half like SQuAD's 472: a row can win it on two seed
   questions while losing on many more; eval/README.md, thirteenth session).

The shipped model's answers are read from ``eval/reports/combination-candidates.json`` when
that file is there (``eval/fit_combination.py`` writes it too); delete it after changing the
shipped reader.

Nothing is shipped. To ship a model that wins on the calibration halves: copy
``runs/X/trial/model.safetensors`` and ``reader.json`` to ``qa/reader_model/``, then run
``eval/fit_combination.py --write`` and ``eval/early_exit.py --write``, and update the model card.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import shutil
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

import fit_combination as fc  # noqa: E402
from qa.calibration import benchmark_sets, calibrate  # noqa: E402
from qa.combined import FEATURES, Combination  # noqa: E402
from qa.span_model import META_FILE, WEIGHTS_FILE, update_info  # noqa: E402

SHIPPED = ROOT / "qa" / "reader_model"
# What the trial takes from the shipped reader: how the combined reader reads and scores.
# Its head and confidence are fitted again; its training record (train, dev, step) is its own.
FROM_SHIPPED = ("combination", "stages")


def trial_info(candidate: dict, shipped: dict) -> dict:
    """The trial model's reader.json: the candidate's own, with the shipped reader's combination
    and exit points (``FROM_SHIPPED``)."""
    return {**candidate, **{k: shipped[k] for k in FROM_SHIPPED if k in shipped}}


def prepare(model_dir: Path, out: Path) -> Path:
    """Copy the model to ``out`` with :func:`trial_info` applied; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_dir / WEIGHTS_FILE, out / WEIGHTS_FILE)
    info = trial_info(json.loads((model_dir / META_FILE).read_text()),
                      json.loads((SHIPPED / META_FILE).read_text()))
    (out / META_FILE).write_text(json.dumps(info, indent=2))
    return out


def rows_of(sets: dict, comb, threshold: float) -> list[str]:
    cells = [fc.pick([r for r in rows if r["calib"] == half], comb, threshold)
             for rows in sets.values() for half in (True, False)]
    close = [fc.closeness(sets, comb, threshold, half) for half in (True, False)]
    return [f"{h:.3f} / {n:.3f}" for h, n in cells] + [f"{close[0]:.3f} / {close[1]:.3f}"]


def report(shipped_sets: dict, trial_sets: dict, shipped_json: dict) -> None:
    shipped_comb = Combination.from_json(shipped_json)
    grid = fc.GRID
    refit = fc.fit(trial_sets, FEATURES[:3])
    refit = dataclasses.replace(refit, threshold=float(
        max(grid, key=lambda t: (fc.closeness(trial_sets, refit, t, True), -t))))
    print("| model | combination | threshold | seeds calib | seeds test | SQuAD calib | SQuAD test "
          "| closeness calib / test | questions better / worse than shipped, calib; test |")
    print("|---|---|---|---|---|---|---|---|---|")
    searched = fc.with_model_best(trial_sets, shipped_comb, grid, fc.base_bias(shipped_json))
    for label, sets, kind, comb in (
            ("shipped", shipped_sets, "shipped weights", shipped_comb),
            ("trial", trial_sets, "shipped weights", shipped_comb),
            ("trial", trial_sets, "refit on the calibration halves", refit),
            ("trial", trial_sets, "shipped weights, model_best searched", searched)):
        (b1, w1), (b2, w2) = (fc.paired(shipped_sets, shipped_comb, sets, comb, half) for half in (True, False))
        print(f"| {label} | {kind} | {comb.threshold:.2f} | " + " | ".join(rows_of(sets, comb, comb.threshold))
              + f" | {b1} / {w1}; {b2} / {w2} |")
    print(f"refit: {refit}\nsearched: {searched}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", type=Path, help="a model folder written by qa train-reader (OUT/model)")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/train/squad2-train-mix.json")
    p.add_argument("--squad", default=str(ROOT.parent / "shared/bench/squad2-dev-3articles.json"))
    p.add_argument("--out", type=Path, default=None, help="the trial folder (default: MODEL/../trial)")
    p.add_argument("--skip-calibration", action="store_true", help="the trial folder is already calibrated")
    args = p.parse_args()
    if not (args.model / WEIGHTS_FILE).is_file():
        sys.exit(f"{args.model} holds no {WEIGHTS_FILE}: pass the model folder a training run wrote (OUT/model)")
    out = args.out or args.model.parent / "trial"
    if not args.skip_calibration:
        prepare(args.model, out)
        print(json.dumps(calibrate(args.data, out), indent=2))
        # calibrate also fits a combination on held-out articles alone; the trial reads and
        # scores as the shipped reader does, whose weights were refitted on both benchmarks.
        shipped = json.loads((SHIPPED / META_FILE).read_text())
        update_info(out, **{k: shipped[k] for k in FROM_SHIPPED if k in shipped})
        # Answers recorded before this calibration are another reader's.
        (out / "combination-candidates.json").unlink(missing_ok=True)
    shipped_sets = benchmark_sets(fc.record, ROOT / "eval/reports/combination-candidates.json", args.squad)
    trial_sets = benchmark_sets(functools.partial(fc.record, model=out), out / "combination-candidates.json",
                                args.squad)
    report(shipped_sets, trial_sets, json.loads((SHIPPED / META_FILE).read_text())["combination"])


if __name__ == "__main__":
    main()
