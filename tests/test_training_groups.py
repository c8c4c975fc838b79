"""Shared normalisation across a question's windows (qa.training_groups)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from qa.span_model import Window
from qa.training_groups import scored_positions, shared_loss, shared_targets

DATA = Path(__file__).resolve().parents[2] / "shared" / "train" / "squad2-train-mix.json"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="../shared/train is not beside the checkout")


def _window(n_question: int, n_passage: int, passage: int = 0) -> Window:
    """[CLS] question [SEP] passage [SEP]: offsets only on the passage tokens."""
    n = 1 + n_question + 1 + n_passage + 1
    offsets = [None] * (2 + n_question) + [(i, i + 1) for i in range(n_passage)] + [None]
    return Window(tuple(range(n)), (0,) * n, tuple(offsets), passage)


def test_scored_positions_are_cls_and_passage_tokens_only():
    mask = scored_positions([_window(2, 3), _window(1, 1)])
    assert mask.shape == (2, 8)
    assert mask[0].tolist() == [True, False, False, False, True, True, True, False]
    assert mask[1].tolist() == [True, False, False, True, False, False, False, False]  # then padding


def test_targets_are_the_answer_in_its_windows_or_every_cls():
    w = _window(1, 4)
    group = [(w, 3, 4), (w, 0, 0), (w, 0, 0)]  # the answer in the first window; two near misses
    assert shared_targets(group, True) == ([(0, 3)], [(0, 4)])
    assert shared_targets(group, False) == ([(0, 0), (1, 0), (2, 0)],) * 2
    assert shared_targets([(w, 0, 0)], True) is None  # answerable, but no window holds it


def test_shared_loss_is_low_only_when_the_answer_outscores_every_window():
    torch = pytest.importorskip("torch")
    w = _window(1, 4)
    batch = [(w, 3, 4), (w, 0, 0)]
    mask = torch.from_numpy(scored_positions([w, w]))

    def loss(start_peaks):
        start = torch.full((2, 8), -5.0)
        end = torch.full((2, 8), -5.0)
        for (i, j), v in start_peaks.items():
            start[i, j] = v
        end[0, 4] = 10.0
        return float(shared_loss(start, end, mask, [(0, 2, True)], batch))

    right = loss({(0, 3): 10.0})
    # a near miss's span scoring as high as the answer halves the start's probability
    tie = loss({(0, 3): 10.0, (1, 3): 10.0})
    assert right < 0.01 and tie == pytest.approx(right + 0.5 * math.log(2), abs=0.01)
    # the question tokens are masked: a high score there costs nothing
    assert loss({(0, 3): 10.0, (1, 1): 50.0}) == pytest.approx(right, abs=1e-6)
    # an unanswerable question wants the mass on the [CLS] of its windows
    start = torch.zeros((2, 8))
    start[:, 0] = 10.0
    end = start.clone()
    assert float(shared_loss(start, end, mask, [(0, 2, False)], batch)) < 0.01


@needs_data
def test_shared_norm_batches_questions_with_their_near_misses_and_trains(tmp_path):
    import json

    from qa.span_model import tokenizer_for
    from qa.training import TrainConfig, _training_data, train

    from qa.training import label_windows

    cfg = TrainConfig(limit=40, negatives=1, shared_norm=1.0)
    tok = tokenizer_for()
    groups, train_ex, _, _ = _training_data(DATA, cfg, tok)
    assert len(groups) == len(train_ex)
    extra = 0
    for (windows, answerable), ex in zip(groups, train_ex):
        own = label_windows(tok, ex, cfg.max_length, cfg.stride)
        assert answerable == (ex.answer is not None) and windows[: len(own)] == own
        assert all((s, e) == (0, 0) for _, s, e in windows[len(own):])  # near misses: no answer
        extra += len(windows) - len(own)
    assert extra >= len(train_ex) // 2
    run = TrainConfig(limit=12, negatives=1, shared_norm=1.0, batch_size=4, max_steps=6, eval_every=1,
                      lr=3e-4, warmup=0.0, epochs=3)
    train(DATA, tmp_path / "run", run, progress=False)
    curve = [json.loads(line) for line in (tmp_path / "run" / "curve.jsonl").read_text().splitlines()]
    assert curve[-1]["loss"] < curve[0]["loss"]
    assert np.isfinite([r["loss"] for r in curve]).all()


def test_answerability_loss_is_low_when_the_head_knows_which_windows_hold_the_answer():
    torch = pytest.importorskip("torch")
    from types import SimpleNamespace

    from qa.training_groups import answerability_loss, attach_head

    model = torch.nn.Module()
    model.config = SimpleNamespace(hidden_size=4)
    attach_head(model, {"weights": [10.0, 0.0, 0.0, 0.0], "bias": -5.0})
    cls = torch.tensor([[1.0, 0, 0, 0], [0.0, 0, 0, 0]])  # logits +5 and -5
    right = answerability_loss(model, cls, torch.tensor([7, 0])).item()  # window 0 holds the answer
    wrong = answerability_loss(model, cls, torch.tensor([0, 7])).item()
    assert right < 0.01 and wrong == pytest.approx(5.0, abs=0.01)


def test_the_trained_head_is_saved_as_the_readers_verifier_not_as_weights(tmp_path):
    torch = pytest.importorskip("torch")
    import json

    from qa.span_model import HEAD, load_model, new_model, save_model, split_head
    from qa.training_groups import attach_head

    model = new_model()
    attach_head(model)
    with torch.no_grad():
        getattr(model, HEAD).bias.fill_(0.25)
    save_model(model, tmp_path / "m", {"step": 1})
    info = json.loads((tmp_path / "m" / "reader.json").read_text())
    head = getattr(model, HEAD)
    assert info["verifier"]["bias"] == pytest.approx(0.25)
    assert info["verifier"]["weights"] == pytest.approx(head.weight.reshape(-1).tolist(), abs=1e-6)
    loaded, _ = load_model(tmp_path / "m")  # strict about its weights: the head is not among them
    assert not hasattr(loaded, HEAD)
    assert split_head({"x": 1}) == ({"x": 1}, None)


@needs_data
def test_training_with_the_answerability_loss_continues_a_model_and_scores_the_head(tmp_path):
    import json

    from qa.training import TrainConfig, train

    base = TrainConfig(limit=12, batch_size=4, max_steps=2, eval_every=2, lr=3e-4, warmup=0.0, epochs=3)
    train(DATA, tmp_path / "a", base, progress=False)
    run = TrainConfig(**{**base.__dict__, "answerability": 1.0, "max_steps": 6, "eval_every": 1,
                         "init": str(tmp_path / "a" / "model")})
    train(DATA, tmp_path / "b", run, progress=False)
    curve = [json.loads(line) for line in (tmp_path / "b" / "curve.jsonl").read_text().splitlines()]
    assert all("head_auc" in r for r in curve) and np.isfinite([r["loss"] for r in curve]).all()
    assert curve[-1]["loss"] < curve[0]["loss"]
    info = json.loads((tmp_path / "b" / "model" / "reader.json").read_text())
    assert info["verifier"]["fitted_on"].startswith("training") and len(info["verifier"]["weights"]) == 384
