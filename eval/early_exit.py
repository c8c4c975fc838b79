"""Choose the combined reader's early exit on the calibration halves of both benchmarks.

    python eval/early_exit.py              # figures only
    python eval/early_exit.py --write      # also store the choice in qa/reader_model/reader.json
    python eval/early_exit.py --first 1    # what a first stage of one passage would give

The combined reader can read the top ``first_passages`` (2) passages first and stop there when
its best candidate is confident enough (``Combination.early_exit``); otherwise it reads on to
all ``passages`` (5). The span model's time grows with every passage, so each question that
stops early costs about 2/5 of a full read.

Every question is answered twice, from the top 2 and from the top 5 passages (the assistant as
shipped, abstention aside). For each candidate exit point the answer is then the top-2 one when
its confidence reaches the exit point, else the top-5 one, scored at the shipped threshold. The
exit point chosen is the lowest at which neither calibration half loses HasAns F1 or NoAns
accuracy against always reading 5 passages; the test halves are printed beside it and never
enter the choice. Run it again after ``eval/fit_combination.py --write``: the exit point is
measured on the combination's confidence.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import evaluation as ev  # noqa: E402
from qa.calibration import benchmark_sets  # noqa: E402
from qa.span_model import SHIPPED_MODEL_DIR, read_info, update_info  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402
from qa.metrics import answer_scores, mean, percentile  # noqa: E402

GRID = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
ALL = 5


def record(docs, questions, first: int) -> dict:
    """Per question and passage count: the best answer's text and confidence, and the time."""
    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.retriever import Retriever

    retriever = Retriever.from_documents(docs)
    calib = {q.id for q in ev.split(questions)[0]}
    out = {"calib": sorted(calib), "answers": {q.id: list(q.answers) for q in questions}, "runs": {},
           "first": first}
    for n in (first, ALL):
        bot = Assistant(retriever, ReaderConfig(passages=n, first_passages=0))
        out["threshold"] = bot.threshold()
        rows = {}
        for q in tqdm(questions, desc=f"{n} passages", unit="q", leave=False):
            t = time.perf_counter()
            # Earlier turns are answered at the shipped threshold, as the user saw them.
            turns = bot.context(list(q.history))
            a = bot.ask(q.question, turns, threshold=float("-inf")).answer
            rows[q.id] = (a.text if a else None, a.score if a else 0.0, (time.perf_counter() - t) * 1000)
        out["runs"][str(n)] = rows
    return out


def figures(data: dict, ids: list[str], exit_at: float | None) -> dict:
    """HasAns F1, NoAns accuracy and the share of questions settled early, for one exit point
    (``None``: always read all passages)."""
    first, full = data["runs"][str(data["first"])], data["runs"][str(ALL)]
    limit = data["threshold"]
    picked = {q: first[q] if exit_at is not None and first[q][1] >= exit_at else full[q] for q in ids}
    answers = data["answers"]
    has = [answer_scores(picked[q][0] if picked[q][1] >= limit else None, answers[q])[1] for q in ids if answers[q]]
    no = [float(picked[q][1] < limit) for q in ids if not answers[q]]
    early = sum(exit_at is not None and first[q][1] >= exit_at for q in ids)
    return {"hasans": mean(has), "noans": mean(no) if no else float("nan"), "early": early / len(ids)}


def choose(sets: dict[str, dict]) -> float | None:
    """The lowest exit point at which no calibration half loses on either figure."""
    def halves(data):
        return [q for q in data["answers"] if q in set(data["calib"])]

    base = {name: figures(d, halves(d), None) for name, d in sets.items()}
    for t in GRID:
        now = {name: figures(d, halves(d), t) for name, d in sets.items()}
        if all(now[n]["hasans"] >= base[n]["hasans"] - 1e-9 and not now[n]["noans"] < base[n]["noans"] - 1e-9
               for n in sets):
            return t
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--squad", default=str(ROOT.parent / "shared/bench/squad2-dev-3articles.json"))
    p.add_argument("--first", type=int, default=ReaderConfig().first_passages,
                   help="passages of the first stage (default: the shipped config's)")
    p.add_argument("--cache", default=None, help="default: eval/reports/early-exit-answers-FIRST.json")
    p.add_argument("--write", action="store_true", help="store the choice in qa/reader_model/reader.json")
    args = p.parse_args()
    if args.write and args.first != ReaderConfig().first_passages:
        p.error(f"--write stores an exit point for the shipped first stage ({ReaderConfig().first_passages} "
                f"passages); change ReaderConfig.first_passages first")
    cache = Path(args.cache or f"eval/reports/early-exit-answers-{args.first}.json")
    sets = benchmark_sets(lambda docs, qs: record(docs, qs, args.first), cache, args.squad)
    chosen = choose(sets)
    print("| exit at | " + " | ".join(f"{n} {h}: HasAns / NoAns (early)" for n in sets for h in ("calib", "test")) + " |")
    print("|---|" + "---|" * (2 * len(sets)))
    for t in (None, *GRID):
        cells = []
        for data in sets.values():
            for half in (True, False):
                ids = [q for q in data["answers"] if (q in set(data["calib"])) == half]
                f = figures(data, ids, t)
                cells.append(f"{f['hasans']:.3f} / {f['noans']:.3f} ({f['early']:.0%})")
        label = "never" if t is None else f"{t:.2f}" + (" (chosen)" if t == chosen else "")
        print(f"| {label} | " + " | ".join(cells) + " |")
    for name, data in sets.items():
        for n in (args.first, ALL):
            ms = [r[2] for r in data["runs"][str(n)].values()]
            print(f"{name}, {n} passages: ask p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms")
    print(f"chosen exit point: {chosen}")
    if args.write and chosen is not None:
        combination = {**read_info()["combination"], "early_exit": chosen, "early_exit_chosen_on": (
            f"calibration halves of eval/questions.jsonl and squad2-dev-3articles (eval/early_exit.py, "
            f"top {args.first} then top {ALL} passages)")}
        meta_path = update_info(SHIPPED_MODEL_DIR, combination=combination)
        print(f"written to {meta_path}")


if __name__ == "__main__":
    main()
