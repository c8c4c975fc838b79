"""Int8 forms of the shipped reader's graph against fp32: which products to leave in fp32.

    python eval/int8_forms.py                 # fidelity on the benchmarks' retrieved passages
    python eval/int8_forms.py --held-out      # HasAns F1 on 400 held-out training questions

The first table reads every seed question and every 4th SQuAD-sample question with its 5
retrieved passages, in each form, and compares each window's best span with fp32's: how often
it is the same span, and how far the span-over-null margin moves. No answer is scored, so the
benchmarks' labels play no part. The second reads held-out training questions (never a
benchmark question) with their own paragraph and beside 2 near-miss paragraphs, never
abstaining, and times one batch of 5 short passages. ``qa.onnx_models.fp32_nodes`` is the form
that ships as ``--int8``. Forms are written under ``eval/reports/int8-forms/``.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from qa.onnx_models import OnnxSpanModel, reader_graph  # noqa: E402
from qa.span_model import SHIPPED_MODEL_DIR, base_model_dir, best_span, pad_batch, tokenizer_for, windows  # noqa: E402


def _layer(i: int):
    return lambda n: f"layer.{i}/" in n


def _ffn_out(layers):
    return lambda n: bool(m := re.search(r"layer\.(\d+)/output/dense/MatMul$", n)) and int(m.group(1)) in layers


HEAD = "qa_outputs/MatMul"
# name -> which MatMul nodes stay in fp32
FORMS = {
    "nothing": lambda n: False,
    "the span head": lambda n: HEAD in n,
    "layer 5 and the head": lambda n: _layer(5)(n) or HEAD in n,
    "layers 0 and 5 and the head": lambda n: _layer(0)(n) or _layer(5)(n) or HEAD in n,
    "feed-forward input": lambda n: "intermediate/dense" in n,
    "feed-forward output 0-1": _ffn_out(range(2)),
    "feed-forward output 0-2": _ffn_out(range(3)),
    "feed-forward output 0-3 (shipped)": _ffn_out(range(4)),
    "feed-forward output, all": _ffn_out(range(6)),
    "feed-forward output 0-3 and layer 0": lambda n: _ffn_out(range(4))(n) or _layer(0)(n),
}


def build(graph: Path, out: Path, keep) -> Path:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if not out.exists():
        names = [n.name for n in onnx.load(str(graph), load_external_data=False).graph.node if n.op_type == "MatMul"]
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_dynamic(str(graph), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=[n for n in names if keep(n)])
    return out


def models(forms) -> dict[str, OnnxSpanModel]:
    graph = reader_graph(SHIPPED_MODEL_DIR, base_model_dir() / "model.safetensors")
    if not graph.exists():
        sys.exit(f"no cached graph at {graph}: run `qa ask 'Who founded 01.AI?'` once to export it")
    out = {"fp32": OnnxSpanModel(graph)}
    for name in forms:
        slug = re.sub(r"\W+", "-", name).strip("-")
        out[name] = OnnxSpanModel(build(graph, ROOT / "eval" / "reports" / "int8-forms" / f"{slug}.onnx", FORMS[name]))
    return out


def fidelity(forms) -> None:
    from qa import evaluation as ev
    from qa.documents import load_folder
    from qa.retriever import Retriever

    tok = tokenizer_for()
    sets = [(load_folder(ROOT / "seeds"), [q.question for q in ev.load_questions(ROOT / "eval" / "questions.jsonl")])]
    docs, qs = ev.load_squad(ROOT.parent / "shared" / "bench" / "squad2-dev-3articles.json")
    sets.append((docs, [q.question for q in qs][::4]))
    ms = models(forms)
    stats = {k: {"ms": 0.0, "same": [], "moved": []} for k in ms}
    asked = 0
    for docs, questions in sets:
        retriever = Retriever.from_documents(docs)
        for q in questions:
            ws = windows(tok, q, [h.chunk.text for h in retriever.search(q, k=5)], 256, 85)
            arrays, asked = pad_batch(ws), asked + 1
            spans = {}
            for name, m in ms.items():
                t = time.perf_counter()
                s, e, _ = m.run(arrays)
                stats[name]["ms"] += (time.perf_counter() - t) * 1000
                spans[name] = [best_span(w, s[i], e[i], 64) for i, w in enumerate(ws)]
            for name in ms:
                for b, g in zip(spans["fp32"], spans[name]):
                    if b is not None and g is not None:
                        stats[name]["same"].append((b.start, b.end) == (g.start, g.end))
                        stats[name]["moved"].append(abs(b.margin - g.margin))
    print("| kept in fp32 | ms per question (5 passages) | same best span as fp32 | mean margin change |")
    print("|---|---|---|---|")
    for name, st in stats.items():
        print(f"| {name} | {st['ms'] / asked:.1f} | {np.mean(st['same']):.3f} | {np.mean(st['moved']):.3f} |")


def held_out(forms, questions: int) -> None:
    from qa.metrics import f1
    from qa.training import TrainConfig, _training_data, hard_negatives

    tok = tokenizer_for()
    cfg = TrainConfig(dev_questions=questions, distractors=2)
    _, _, dev, pool = _training_data(ROOT.parent / "shared" / "train" / "squad2-train-mix.json",
                                     replace(cfg, negatives=0), tok)
    near = hard_negatives(list(pool), 2)

    def has_f1(m, extra) -> float:
        scores = []
        for ex in dev:
            if not ex.answer:
                continue
            passages = [ex.context] + extra.get(ex.qid, [])
            ws = windows(tok, ex.question, passages, cfg.max_length, cfg.stride)
            s, e, _ = m.run(pad_batch(ws))
            found = [g for i, w in enumerate(ws) if (g := best_span(w, s[i], e[i])) is not None]
            best = max(found, key=lambda g: g.score) if found else None
            text = passages[best.passage][best.start : best.end] if best else ""
            scores.append(max(f1(text, a) for a in ex.answers))
        return float(np.mean(scores))

    def speed(m) -> float:
        arrays = pad_batch(windows(tok, dev[0].question, [dev[0].context[:400]] * 5, 256, 85))
        for _ in range(5):
            m.run(arrays)
        times = []
        for _ in range(40):
            t = time.perf_counter()
            m.run(arrays)
            times.append(time.perf_counter() - t)
        return 1000 * float(np.median(times))

    print("| form | size | ms (5 short passages) | HasAns F1, own paragraph | beside 2 near misses |")
    print("|---|---|---|---|---|")
    for name, m in models(forms).items():
        print(f"| {name} | {m.path.stat().st_size / 1e6:.0f} MB | {speed(m):.1f} | {has_f1(m, {}):.3f} | "
              f"{has_f1(m, near):.3f} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--held-out", action="store_true", help="score on held-out training questions instead")
    p.add_argument("--questions", type=int, default=400)
    p.add_argument("--forms", nargs="*", choices=list(FORMS), default=None,
                   help="the forms to compare (default: all, or for --held-out the two int8 forms compared there)")
    args = p.parse_args()
    if args.held_out:
        held_out(args.forms or ["nothing", "feed-forward output 0-3 (shipped)"], args.questions)
    else:
        fidelity(args.forms or list(FORMS))


if __name__ == "__main__":
    main()
