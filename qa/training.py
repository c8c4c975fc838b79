"""Train the span reader: ``qa train-reader --data FILE --out DIR``.

Fine-tunes the packaged all-MiniLM-L6-v2 encoder with a new start/end head on SQuAD v2.0-format
data. Unanswerable questions, and windows of a long paragraph that miss the answer, point at
``[CLS]``: that is how the model learns to say "none". The word embeddings stay frozen so the
shipped model can reuse the package's copy (see :mod:`qa.span_model`).

The run is reproducible (fixed seed, deterministic data order per epoch), resumable (a
checkpoint every ``checkpoint_every`` steps; rerunning the same command resumes) and writes its
learning curve to ``curve.jsonl`` as it goes, scored on held-out articles of the training file.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import re
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.errors import InputError
from qa.span_model import (HEAD, Window, best_span, load_model, new_model, pad_batch, save_model, tokenizer_for,
                           windows)
from qa.checkpoints import check_resumable, load_checkpoint, save_checkpoint
from qa.training_groups import answerability_loss, attach_head, hard_negatives, scored_positions, shared_loss

__all__ = ["TrainConfig", "TrainExample", "hard_negatives", "load_examples", "split_dev", "train"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainExample:
    """One SQuAD question with its paragraph; ``answer`` is ``None`` when unanswerable."""

    qid: str
    article: str
    context: str
    question: str
    answer: tuple[int, int] | None
    answers: tuple[str, ...]


PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults are the ones the shipped model was trained with."""

    epochs: float = 3.0
    lr: float = 1e-4
    batch_size: int = 16
    # Windows about as long as what the reader reads in use (a 400-character chunk and the
    # question): trained on 256-token windows, the model read the benchmarks' chunks worse.
    max_length: int = 128
    stride: int = 48
    warmup: float = 0.06
    weight_decay: float = 0.01
    seed: int = 13
    dev_articles: int = 6
    dev_questions: int = 400
    eval_every: int = 200
    checkpoint_every: int = 50
    max_steps: int | None = None
    limit: int | None = None
    threads: int | None = None
    init: str | None = None  # a saved reader model to continue from (default: a new head)
    device: str = "auto"  # "cpu", "cuda" or "auto" (a GPU when torch sees one): same command, either machine
    negatives: int = 0  # per question, this many other paragraphs of its article, labelled "no answer"
    # Weight of the shared softmax over all windows of a question (qa.training_groups); with it,
    # a batch holds batch_size questions (their own and near-miss windows), not windows.
    shared_norm: float = 0.0
    # Weight of an answerability loss: a linear head on the last layer's [CLS] vector learns
    # whether each window holds the answer (binary cross-entropy), so that the encoder keeps
    # what abstention needs. Saved as the reader's ``verifier`` (qa.neural reads it).
    answerability: float = 0.0
    # Curve only: also score each dev question read beside this many near-miss paragraphs, as
    # retrieval hands them over (eval/reader_dev.py uses 2). Off by default: it triples the
    # cost of each curve point, which matters on a CPU.
    distractors: int = 0
    # "bf16" runs the forward and backward passes under bf16 autocast (weights and optimizer
    # stay fp32): about 1.9x faster on a CPU with AVX-512 BF16, and the usual choice on a recent
    # GPU. The shipped model was trained in fp32.
    precision: str = "fp32"

    def __post_init__(self) -> None:
        bad = [f"{name} must be {rule}, got {getattr(self, name)!r}" for name, ok, rule in (
            ("epochs", self.epochs > 0, "above 0"), ("lr", self.lr > 0, "above 0"),
            ("batch_size", self.batch_size >= 1, "at least 1"), ("max_length", 32 <= self.max_length <= 512, "32 to 512"),
            ("stride", 0 <= self.stride < self.max_length // 2, "0 or more and below half of max_length"),
            ("negatives", self.negatives >= 0, "0 or more"), ("shared_norm", self.shared_norm >= 0, "0 or more"),
            ("answerability", self.answerability >= 0, "0 or more"),
            ("precision", self.precision in PRECISIONS, " or ".join(PRECISIONS)),
            ("max_steps", self.max_steps is None or self.max_steps >= 1, "at least 1")) if not ok]
        if bad:
            raise InputError("bad training setting: " + "; ".join(bad))


def load_examples(path: str | Path) -> list[TrainExample]:
    """SQuAD v1.1/v2.0 JSON as training examples (:mod:`qa.squad`, lenient: the few published
    answers whose ``answer_start`` misses their text are dropped). Raises InputError."""
    from qa.errors import CorpusError
    from qa.squad import read_squad

    try:
        paragraphs = read_squad(path, strict=False)
    except CorpusError as exc:
        raise InputError(f"cannot read SQuAD training file {path}: {exc}") from None
    return [
        TrainExample(q.id, p.article, p.context, q.question,
                     None if q.impossible else (q.answers[0].start, q.answers[0].start + len(q.answers[0].text)),
                     tuple(a.text for a in q.answers))
        for p in paragraphs for q in p.questions
    ]


def split_dev(examples: Sequence[TrainExample], n_articles: int) -> tuple[list, list]:
    """Hold out whole articles (chosen by a hash of the title) so the curve measures new text."""
    titles = sorted({e.article for e in examples}, key=lambda t: zlib.crc32(t.encode()))
    dev = set(titles[:n_articles])
    return [e for e in examples if e.article not in dev], [e for e in examples if e.article in dev]


def label_windows(tokenizer, ex: TrainExample, max_length: int, stride: int) -> list[tuple[Window, int, int]]:
    """Windows of one example with their gold start/end token (0, 0 = ``[CLS]`` = no answer)."""
    out = []
    for w in windows(tokenizer, ex.question, [ex.context], max_length, stride):
        s_tok = e_tok = 0
        if ex.answer is not None:
            a0, a1 = ex.answer
            ctx = [(j, o) for j, o in enumerate(w.offsets) if o is not None]
            if ctx and ctx[0][1][0] <= a0 and ctx[-1][1][1] >= a1:
                s_tok = next(j for j, o in ctx if o[1] > a0)
                e_tok = next(j for j, o in reversed(ctx) if o[0] < a1)
        out.append((w, s_tok, e_tok))
    return out


def _tokens(item) -> int:
    """A labelled window's length, or a question group's longest window (shared softmax)."""
    first = item[0]
    return max(len(w.input_ids) for w, _, _ in first) if isinstance(first, list) else len(first.input_ids)


def batches(items: list, batch_size: int, seed: int) -> Iterator[list]:
    """Shuffled batches of similar length (less padding), in an order fixed by ``seed``."""
    rng = random.Random(seed)
    order = list(range(len(items)))
    rng.shuffle(order)
    mega = batch_size * 50
    out = []
    for i in range(0, len(order), mega):
        group = sorted(order[i : i + mega], key=lambda j: _tokens(items[j]))
        out += [group[k : k + batch_size] for k in range(0, len(group), batch_size)]
    rng.shuffle(out)
    for b in out:
        yield [items[j] for j in b]


def resolve_device(name: str) -> str:
    """``auto`` picks the GPU when torch sees one; an explicit ``cuda`` without one is an error."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise InputError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {name!r} asked for, but torch sees no GPU: use --device cpu or auto")
    return name


def predict(model, tokenizer, examples: Sequence[TrainExample], cfg: TrainConfig,
            extra: dict[str, list[str]] | None = None) -> list[tuple[str, float, float]]:
    """Best non-null span text, its margin over the null score, and the answerability head's
    highest window logit (NaN without a head), per example; ``extra`` gives paragraphs to read
    beside each example's own (the best span over all of them wins)."""
    import torch

    device = next(model.parameters()).device
    head = getattr(model, HEAD, None)
    model.eval()
    out = []
    with torch.no_grad():
        for ex in examples:
            passages = [ex.context] + (extra or {}).get(ex.qid, [])
            ws = windows(tokenizer, ex.question, passages, cfg.max_length, cfg.stride)
            batch = {k: torch.from_numpy(v).to(device) for k, v in pad_batch(ws).items()}
            res = model(**batch, output_hidden_states=head is not None)
            verdict = float(head(res.hidden_states[-1][:, 0, :]).max()) if head is not None else float("nan")
            s, e = res.start_logits.float().cpu().numpy(), res.end_logits.float().cpu().numpy()
            guesses = [g for i, w in enumerate(ws) if (g := best_span(w, s[i], e[i])) is not None]
            if not guesses:
                out.append(("", -1e9, verdict))
                continue
            g = max(guesses, key=lambda g: g.score)
            null = min(x.null_score for x in guesses)
            out.append((passages[g.passage][g.start : g.end], g.score - null, verdict))
    model.train()
    return out


def evaluate_dev(model, tokenizer, dev: Sequence[TrainExample], cfg: TrainConfig,
                 pool: Sequence[TrainExample] = ()) -> dict[str, float]:
    """HasAns F1 when never abstaining, and how well the margin separates answerable (ROC AUC),
    reading each question's own paragraph; with ``cfg.distractors``, HasAns F1 again reading it
    beside that many near-miss paragraphs of its article (drawn from ``pool``), as in use."""
    from qa.metrics import f1, roc_auc

    def has_f1(preds):
        has = [max(f1(p, g) for g in ex.answers) for (p, *_), ex in zip(preds, dev) if ex.answer]
        return float(np.mean(has)) if has else 0.0

    preds = predict(model, tokenizer, dev, cfg)
    labels = [ex.answer is not None for ex in dev]
    row = {"hasans_f1": has_f1(preds), "noans_auc": roc_auc([m for _, m, _ in preds], labels),
           "dev_questions": len(dev)}
    if hasattr(model, HEAD):  # the answerability head's own ROC AUC, its best window per question
        row["head_auc"] = roc_auc([h for *_, h in preds], labels)
    if cfg.distractors and pool:
        extra = hard_negatives(list(pool), cfg.distractors)
        row["distractor_f1"] = has_f1(predict(model, tokenizer, dev, cfg, extra))
    return row


def _log_point(out: Path, model, tok, dev, cfg: TrainConfig, row: dict, pool=()) -> None:
    """Score on the dev questions, append to the learning curve, save the model as shipped."""
    row.update(evaluate_dev(model, tok, dev, cfg, pool))
    with (out / "curve.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")
    log.info("curve %s", row)
    save_model(model, out / "model", {"train": asdict(cfg), "step": row["step"], "dev": row})


def _training_data(data, cfg: TrainConfig, tok) -> tuple[list, list[TrainExample], list[TrainExample], list]:
    """Labelled windows of the training articles, the training examples, the dev questions, and
    every dev-article question (the paragraphs that distractors are drawn from)."""
    examples = load_examples(data)
    if cfg.limit:
        examples = examples[: cfg.limit]
    train_ex, pool = split_dev(examples, cfg.dev_articles)
    if cfg.limit:  # a smoke run has too few articles to hold any out
        train_ex, pool = examples, examples
    dev = sorted(pool, key=lambda e: zlib.crc32(e.qid.encode()))[: cfg.dev_questions]
    negatives = hard_negatives(train_ex, cfg.negatives)
    own = [label_windows(tok, ex, cfg.max_length, cfg.stride) for ex in train_ex]
    near = [[w for para in negatives.get(ex.qid, [])
             for w in label_windows(tok, dataclasses.replace(ex, context=para, answer=None),
                                    cfg.max_length, cfg.stride)] for ex in train_ex]
    if cfg.shared_norm > 0:  # a question's windows stay together: the shared softmax spans them
        groups = [(o + n, ex.answer is not None) for o, n, ex in zip(own, near, train_ex)]
        return groups, train_ex, dev, pool
    return [w for ws in own + near for w in ws], train_ex, dev, pool


def _batch_loss(model, batch: list, device: str, cfg: TrainConfig):
    """Each window's own start/end loss, plus the shared softmax of each question's windows
    when ``cfg.shared_norm`` is on (then ``batch`` holds questions: windows and answerable)."""
    import torch

    flat, groups = batch, []
    if cfg.shared_norm > 0:
        flat = []
        for group, answerable in batch:
            groups.append((len(flat), len(group), answerable))
            flat += group
    ws = [w for w, _, _ in flat]
    enc = {k: torch.from_numpy(v).to(device) for k, v in pad_batch(ws).items()}
    starts = torch.tensor([s for _, s, _ in flat], device=device)
    head = cfg.answerability > 0
    res = model(**enc, start_positions=starts, end_positions=torch.tensor([e for _, _, e in flat], device=device),
                output_hidden_states=head)
    loss = res.loss
    if head:
        loss = loss + cfg.answerability * answerability_loss(model, res.hidden_states[-1][:, 0, :], starts)
    if not groups:
        return loss
    mask = torch.from_numpy(scored_positions(ws)).to(device)
    return loss + cfg.shared_norm * shared_loss(res.start_logits, res.end_logits, mask, groups, flat)


def _optimizer(model, cfg: TrainConfig, total: int):
    """AdamW (no decay on biases and norms) with linear warm-up and linear decay to zero."""
    import torch

    decay = [p for p in model.parameters() if p.requires_grad and p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    return opt, sched


def _initial_model(cfg: TrainConfig):
    """A new span head on the packaged encoder, or a saved model to continue (``cfg.init``);
    word embeddings frozen either way, so the shipped form can leave them out."""
    model, info = load_model(cfg.init) if cfg.init else (new_model(), {})
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if cfg.answerability > 0:
        attach_head(model, info.get("verifier"))
    return model


def train(data: str | Path, out_dir: str | Path, cfg: TrainConfig = TrainConfig(), progress: bool = True) -> dict:
    """Train, checkpoint, score on held-out articles and save the shipped form in ``out_dir``.

    Returns the last learning-curve row. Rerunning with the same ``out_dir`` resumes.
    """
    import torch
    from tqdm import tqdm

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_resumable(out, asdict(cfg))  # before minutes of data preparation
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    tok = tokenizer_for()
    items, train_ex, dev, pool = _training_data(data, cfg, tok)
    steps_per_epoch = math.ceil(len(items) / cfg.batch_size)
    total = cfg.max_steps or int(steps_per_epoch * cfg.epochs)
    model = _initial_model(cfg).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt, sched = _optimizer(model, cfg, total)
    step = load_checkpoint(out, model, opt, sched)
    log.info("%d training windows from %d questions, %d dev questions, %d steps on %s",
             len(items), len(train_ex), len(dev), total, device)
    model.train()
    bar = tqdm(total=total, initial=step, desc="train", unit="step", disable=not progress)
    losses: list[float] = []
    row: dict = {}
    t0 = time.perf_counter()
    epoch, skip = divmod(step, steps_per_epoch)
    while step < total:
        for b_i, batch in enumerate(batches(items, cfg.batch_size, cfg.seed + epoch)):
            if b_i < skip:
                continue
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                loss = _batch_loss(model, batch, device, cfg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            losses.append(float(loss.detach()))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
            if step % cfg.checkpoint_every == 0 or step == total:
                save_checkpoint(out, model, opt, sched, step, asdict(cfg))
            if step % cfg.eval_every == 0 or step == total:
                row = {"step": step, "epoch": round(step / steps_per_epoch, 3),
                       "examples": step * cfg.batch_size, "loss": float(np.mean(losses[-cfg.eval_every:])),
                       "seconds": round(time.perf_counter() - t0, 1)}
                _log_point(out, model, tok, dev, cfg, row, pool)
            if step >= total:
                break
        epoch += 1
        skip = 0
    bar.close()
    return row


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - thin wrapper
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    for f in TrainConfig.__dataclass_fields__.values():
        kind = float if f.type in ("float", "float | None") else str if f.type.startswith("str") else int
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None)
    args = p.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if k not in ("data", "out") and v is not None}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(train(args.data, args.out, TrainConfig(**overrides)))


if __name__ == "__main__":  # pragma: no cover
    main()
