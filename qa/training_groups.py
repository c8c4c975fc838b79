"""Near-miss paragraphs and shared normalisation: training for reading several passages at once.

In use the reader reads the top retrieved passages of a question and keeps the best raw span
score over all of them (:mod:`qa.neural`). SQuAD pairs each question with its own paragraph
only, and the usual loss is one softmax per window, so nothing in it says that a span of the
right passage must outscore the best span of a passage that merely looks like it.

Two ways to teach that, both from the training file alone:

- ``negatives``: each question is also read with the paragraphs of its article that share most
  of its words, labelled "no answer" (each window's own loss, as retrieval hands them over);
- ``shared_norm``: besides each window's own loss, one softmax over every position of all the
  windows of a question (its paragraph's and its near misses') puts the mass on the answer, or
  on the null answer at ``[CLS]`` when there is none. The raw scores then compare across
  passages, which is how they are used (Clark and Gardner 2018, "Simple and Effective
  Multi-Paragraph Reading Comprehension", call this shared normalisation).

And one for deciding whether to answer at all:

- ``answerability``: a linear head on the last layer's ``[CLS]`` vector learns, with binary
  cross-entropy, whether each window holds the answer. The span loss alone teaches this badly
  (the span-over-null margin separates unanswerable questions at ROC AUC 0.55), and the reader
  already scores every window with such a head (its ``verifier``), fitted until now on frozen
  features (Hu et al. 2019, "Read + Verify", train the same kind of auxiliary no-answer loss).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from qa.span_model import HEAD

_WORD = re.compile(r"[a-z0-9]{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def hard_negatives(examples: Sequence, n: int) -> dict[str, list[str]]:
    """Per question id, the ``n`` other paragraphs of its article that share most of its words.

    In use the reader sees several retrieved passages, most without the answer, and must score
    them below the right one; SQuAD pairs each question with its own paragraph only. These
    near misses teach that, from the training file alone (no other data).
    """
    if n <= 0:
        return {}
    by_article: dict[str, list[str]] = {}
    for ex in examples:
        paras = by_article.setdefault(ex.article, [])
        if ex.context not in paras:
            paras.append(ex.context)
    vocab = {c: _words(c) for paras in by_article.values() for c in paras}
    out = {}
    for ex in examples:
        q = _words(ex.question)
        others = [c for c in by_article[ex.article] if c != ex.context]
        others.sort(key=lambda c: -len(q & vocab[c]))  # stable: ties keep article order
        out[ex.qid] = others[:n]
    return out


def scored_positions(windows: Sequence) -> np.ndarray:
    """Per window, which positions a shared softmax may put mass on: ``[CLS]`` and the passage's
    tokens (never the question, the separators or the padding), as a (windows, length) mask."""
    length = max(len(w.input_ids) for w in windows)
    mask = np.zeros((len(windows), length), dtype=bool)
    for i, w in enumerate(windows):
        mask[i, 0] = True
        for j, off in enumerate(w.offsets):
            if off is not None:
                mask[i, j] = True
    return mask


def shared_targets(group: Sequence[tuple], answerable: bool) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """(window, position) pairs the shared softmax should pick for starts and for ends.

    An answerable question's targets are the answer's tokens in every window of its paragraph
    that holds it whole; an unanswerable one's are the ``[CLS]`` of every window. ``None`` when
    an answerable question's windows all miss the answer (nothing to teach)."""
    if answerable:
        starts = [(i, s) for i, (_, s, e) in enumerate(group) if s > 0]
        ends = [(i, e) for i, (_, s, e) in enumerate(group) if s > 0]
        return (starts, ends) if starts else None
    cls = [(i, 0) for i in range(len(group))]
    return cls, cls


def shared_loss(start, end, mask, groups: Sequence[tuple[int, int, bool]], batch: Sequence[tuple]):
    """Mean over questions of the shared-softmax loss (start and end averaged).

    ``start``/``end``: (windows, length) logits of the flattened batch; ``mask`` from
    :func:`scored_positions`; ``groups``: (first window, window count, answerable) per question.
    """
    import torch

    losses = []
    neg = torch.finfo(start.dtype).min
    for first, count, answerable in groups:
        targets = shared_targets(batch[first : first + count], answerable)
        if targets is None:
            continue
        m = mask[first : first + count]
        for logits, pairs in ((start, targets[0]), (end, targets[1])):
            block = logits[first : first + count].masked_fill(~m, neg)
            picked = torch.stack([block[i, j] for i, j in pairs])
            losses.append(0.5 * (torch.logsumexp(block.reshape(-1), 0) - torch.logsumexp(picked, 0)))
    if not losses:
        return start.sum() * 0.0
    return torch.stack(losses).sum() / max(1, len(losses) // 2)


def attach_head(model, init: dict | None = None) -> None:
    """Give ``model`` a linear answerability head on its [CLS] vector, started from a saved
    ``verifier`` ({"weights", "bias"}) when there is one."""
    import torch

    head = torch.nn.Linear(model.config.hidden_size, 1)
    if init:
        with torch.no_grad():
            head.weight.copy_(torch.tensor(init["weights"], dtype=torch.float32).reshape(1, -1))
            head.bias.fill_(float(init["bias"]))
    setattr(model, HEAD, head)


def answerability_loss(model, cls, start_positions):
    """Binary cross-entropy of the head's logit against "this window holds the answer" (its
    gold start is not ``[CLS]``)."""
    import torch

    logits = getattr(model, HEAD)(cls).squeeze(-1)
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, (start_positions != 0).float())

