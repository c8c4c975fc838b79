"""Choose the combined reader's exit points on the calibration halves of both benchmarks.

    python eval/early_exit.py              # figures only
    python eval/early_exit.py --write      # also store the choice in qa/reader_model/reader.json

The combined reader reads in stages (``ReaderConfig.stages``, 1, 2 then 3 passages), then all
``passages`` (5): after each stage it stops when its best candidate's confidence reaches that
stage's exit point. The span model's time grows with every passage, and the passages of an
earlier stage are not read again (their model output is cached), so a question settled by its
top passage costs about a fifth of a full read.

Every question is answered from the top 1, 2, 3 and 5 passages (the assistant as shipped,
abstention aside; earlier turns at the shipped threshold). Answers are then put together as
the cascade would give them and scored at the shipped threshold. The exit points are chosen
from the last stage back: for each stage, the lowest point at which, with the later stages at
their chosen points, neither calibration half loses HasAns F1 or NoAns accuracy against always
reading all passages. The test halves are printed beside them and never enter the choice. Run
it again after ``eval/fit_combination.py --write``: the points are measured on the
combination's confidence.

Give-up points (since the eleventh session) stop reading at the other end: after a stage whose
best answer is below its give-up point the reader abstains without reading more. They are
chosen below the threshold, from the last stage back, each the highest at which, with the exit
points in place, neither calibration half loses either figure against not giving up.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa import evaluation as ev  # noqa: E402
from qa.calibration import benchmark_script  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402
from qa.metrics import answer_scores, mean, percentile  # noqa: E402
from qa.span_model import SHIPPED_MODEL_DIR, update_info  # noqa: E402

GRID = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
GIVE_UP_GRID = tuple(round(0.01 * i, 2) for i in range(1, 50))  # only those below the threshold are tried
STAGES, ALL = ReaderConfig().stages, ReaderConfig().passages


def record(docs, questions) -> dict:
    """Per question and passage count: the best answer's text and confidence, and the time."""
    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.retriever import Retriever

    retriever = Retriever.from_documents(docs)
    calib = {q.id for q in ev.split(questions)[0]}
    out = {"calib": sorted(calib), "answers": {q.id: list(q.answers) for q in questions}, "runs": {}}
    for n in (*STAGES, ALL):
        bot = Assistant(retriever, ReaderConfig(passages=n, stages=()))
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


def figures(data: dict, ids: list[str], exits: dict[int, float], give_up: dict[int, float] | None = None) -> dict:
    """HasAns F1, NoAns accuracy, and the mean number of passages the model reads, for the
    cascade with these exit points (stage passages -> point; a stage without one is skipped)
    and give-up points."""
    full = data["runs"][str(ALL)]
    limit, answers = data["threshold"], data["answers"]
    give_up = give_up or {}
    picked, read = {}, []
    for q in ids:
        picked[q], n = full[q], ALL
        for stage in sorted(exits):
            row = data["runs"][str(stage)][q]
            if row[1] >= exits[stage] or row[1] < give_up.get(stage, -1.0):
                picked[q], n = row, stage
                break
        read.append(n)
    has = [answer_scores(picked[q][0] if picked[q][1] >= limit else None, answers[q])[1] for q in ids if answers[q]]
    no = [float(picked[q][1] < limit) for q in ids if not answers[q]]
    return {"hasans": mean(has), "noans": mean(no) if no else float("nan"), "passages": mean(read)}


def _halves(data: dict, calib: bool) -> list[str]:
    return [q for q in data["answers"] if (q in set(data["calib"])) == calib]


def _no_loss(now: dict, base: dict) -> bool:
    """Neither figure of any benchmark falls below its baseline (NaN NoAns never counts as lower)."""
    return all(now[n]["hasans"] >= base[n]["hasans"] - 1e-9 and not now[n]["noans"] < base[n]["noans"] - 1e-9
               for n in base)


def choose(sets: dict[str, dict], stages=STAGES) -> dict[int, float]:
    """Exit points from the last stage back: the lowest at which no calibration half loses on
    either figure against reading all passages, given the later stages' points."""
    base = {name: figures(d, _halves(d, True), {}) for name, d in sets.items()}
    exits: dict[int, float] = {}
    for stage in sorted(stages, reverse=True):
        for t in GRID:
            now = {name: figures(d, _halves(d, True), {**exits, stage: t}) for name, d in sets.items()}
            if _no_loss(now, base):
                exits[stage] = t
                break
    return dict(sorted(exits.items()))


def choose_give_up(sets: dict[str, dict], exits: dict[int, float]) -> dict[int, float]:
    """Give-up points from the last stage back: the highest below the threshold at which no
    calibration half loses on either figure against the exit points alone, given the later
    stages' points. A stage gets none when even the lowest costs something."""
    limit = min(d["threshold"] for d in sets.values())
    base = {name: figures(d, _halves(d, True), exits) for name, d in sets.items()}
    give: dict[int, float] = {}
    for stage in sorted(exits, reverse=True):
        for t in sorted((t for t in GIVE_UP_GRID if t < limit), reverse=True):
            now = {name: figures(d, _halves(d, True), exits, {**give, stage: t}) for name, d in sets.items()}
            if _no_loss(now, base):
                give[stage] = t
                break
    return dict(sorted(give.items()))


def main() -> None:
    args, sets = benchmark_script(__doc__, "eval/reports/early-exit-answers.json", record,
                                  "store the choice in qa/reader_model/reader.json")
    chosen = choose(sets)
    print("| exit points | " + " | ".join(f"{n} {h}: HasAns / NoAns (passages read)" for n in sets
                                          for h in ("calib", "test")) + " |")
    print("|---|" + "---|" * (2 * len(sets)))
    last = max(STAGES)
    rows = [{}] + [{last: t} for t in GRID] + [{**chosen, s: t} for s in STAGES if s != last for t in GRID]
    for exits in rows:
        cells = []
        for data in sets.values():
            for half in (True, False):
                f = figures(data, _halves(data, half), exits)
                cells.append(f"{f['hasans']:.3f} / {f['noans']:.3f} ({f['passages']:.2f})")
        label = ", ".join(f"{s}: {t:.2f}" for s, t in sorted(exits.items())) or "none (read all)"
        print(f"| {label}{' (chosen)' if exits == chosen else ''} | " + " | ".join(cells) + " |")
    give = choose_give_up(sets, chosen)
    print("\nGive-up points, with the chosen exit points:")
    for label, g in (("none", {}), ("chosen", give)):
        cells = []
        for data in sets.values():
            for half in (True, False):
                f = figures(data, _halves(data, half), chosen, g)
                cells.append(f"{f['hasans']:.3f} / {f['noans']:.3f} ({f['passages']:.2f})")
        print(f"| {label}: {g} | " + " | ".join(cells) + " |")
    for name, data in sets.items():
        for n in (*STAGES, ALL):
            ms = [r[2] for r in data["runs"][str(n)].values()]
            print(f"{name}, {n} passages: ask p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms")
    print(f"chosen exit points (passages: confidence): {chosen}; give-up points: {give}")
    if args.write and chosen:
        path = update_info(SHIPPED_MODEL_DIR, stages={
            "exit": {str(s): t for s, t in chosen.items()},
            "give_up": {str(s): t for s, t in give.items()},
            "chosen_on": f"calibration halves of eval/questions.jsonl and squad2-dev-3articles "
                         f"(eval/early_exit.py, stages {STAGES} then {ALL} passages)"})
        print(f"written to {path}")


if __name__ == "__main__":
    main()
