"""Reader training, smoke-sized: a few steps on a few questions (CI never runs a full training)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.checkpoints import setting_changes
from qa.errors import InputError
from qa.training import (
    TrainConfig,
    TrainExample,
    hard_negatives,
    label_windows,
    load_examples,
    resolve_device,
    split_dev,
    train,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "train" / "squad2-train-mix.json"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="../shared/train is not beside the checkout")

TINY_SQUAD = {"version": "v2.0", "data": [{"title": "Moon", "paragraphs": [{
    "context": "Apollo 11 landed on the Moon on July 20, 1969. Neil Armstrong was its commander.",
    "qas": [
        {"id": "a", "question": "When did Apollo 11 land?", "is_impossible": False,
         "answers": [{"text": "July 20, 1969", "answer_start": 32}]},
        {"id": "b", "question": "Who commanded Apollo 12?", "is_impossible": True, "answers": []},
        {"id": "c", "question": "Who was the commander?", "answers": [{"text": "Neil Armstrong", "answer_start": 47}]},
    ]}]}]}


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY_SQUAD), encoding="utf-8")
    return path


def test_examples_and_labels_point_at_the_answer(tiny_file):
    from qa.span_model import tokenizer_for

    examples = load_examples(tiny_file)
    assert [e.answer is None for e in examples] == [False, True, False]
    tok = tokenizer_for()
    for ex in examples:
        (w, s, e), = label_windows(tok, ex, 64, 16)
        if ex.answer is None:
            assert (s, e) == (0, 0)  # the null answer is [CLS]
        else:
            assert ex.context[w.offsets[s][0] : w.offsets[e][1]] == ex.context[slice(*ex.answer)]


def test_long_context_windows_without_the_answer_point_at_cls(tiny_file):
    from qa.span_model import tokenizer_for

    ex = load_examples(tiny_file)[2]  # the answer is in the second sentence
    windows = label_windows(tokenizer_for(), ex, 18, 2)
    assert len(windows) > 1
    assert any((s, e) == (0, 0) for _, s, e in windows)
    assert any(s > 0 for _, s, _ in windows)


def test_malformed_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": 3', encoding="utf-8")
    with pytest.raises(InputError, match="cannot read SQuAD training file"):
        load_examples(bad)


def test_dev_split_holds_out_whole_articles(tiny_file):
    examples = load_examples(tiny_file)
    train_ex, dev = split_dev(examples, 1)
    assert not train_ex and len(dev) == 3


def _ex(qid, article, context, question):
    return TrainExample(qid, article, context, question, None, ())


def test_hard_negatives_are_the_closest_other_paragraphs_of_the_same_article():
    examples = [
        _ex("a", "Moon", "Apollo 11 landed on the Moon in 1969.", "When did Apollo 11 land on the Moon?"),
        _ex("b", "Moon", "The Moon orbits the Earth.", "What does the Moon orbit?"),
        _ex("c", "Moon", "Apollo 12 landed on the Moon later that year.", "Which mission landed later?"),
        _ex("d", "Mars", "Apollo landed nowhere near Mars.", "Did Apollo land on Mars?"),
    ]
    neg = hard_negatives(examples, 1)
    assert neg["a"] == ["Apollo 12 landed on the Moon later that year."]  # shares apollo, landed, moon
    assert examples[0].context not in hard_negatives(examples, 5)["a"]  # never its own paragraph
    assert neg["d"] == []  # the only paragraph of its article: nothing to pair it with
    assert len(hard_negatives(examples, 5)["b"]) == 2
    assert hard_negatives(examples, 0) == {}


def test_device_auto_falls_back_to_the_cpu_and_a_missing_gpu_is_a_clean_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_device("auto") == "cpu"
    with pytest.raises(InputError, match="sees no GPU"):
        resolve_device("cuda")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(InputError, match="unknown device 'gpu'"):
        resolve_device("gpu")


@needs_data
def test_negatives_add_null_windows_and_distractors_are_scored(tmp_path):
    from qa.span_model import tokenizer_for
    from qa.training import _training_data

    tok = tokenizer_for()
    plain = TrainConfig(limit=40)
    items, train_ex, _, _ = _training_data(DATA, plain, tok)
    more, _, _, _ = _training_data(DATA, TrainConfig(limit=40, negatives=1), tok)
    added = more[len(items):]
    assert len(added) >= len(train_ex) and all((s, e) == (0, 0) for _, s, e in added)
    row = train(DATA, tmp_path / "run", TrainConfig(limit=24, batch_size=4, max_steps=1, eval_every=1,
                                                    negatives=1, distractors=1), progress=False)
    assert 0.0 <= row["distractor_f1"] <= 1.0 and 0.0 <= row["hasans_f1"] <= 1.0


@needs_data
def test_a_few_steps_lower_the_loss_and_resume(tmp_path):
    cfg = TrainConfig(limit=12, batch_size=4, max_steps=6, eval_every=1, checkpoint_every=3,
                      lr=3e-4, warmup=0.0, epochs=3)
    train(DATA, tmp_path / "run", cfg, progress=False)
    curve = [json.loads(line) for line in (tmp_path / "run" / "curve.jsonl").read_text().splitlines()]
    assert [r["step"] for r in curve] == list(range(1, 7))
    assert curve[-1]["loss"] < curve[0]["loss"]
    assert (tmp_path / "run" / "model" / "model.safetensors").stat().st_size < 30e6
    # rerunning with more steps resumes from the checkpoint instead of starting over
    train(DATA, tmp_path / "run", TrainConfig(**{**cfg.__dict__, "max_steps": 7}), progress=False)
    curve = [json.loads(line) for line in (tmp_path / "run" / "curve.jsonl").read_text().splitlines()]
    assert [r["step"] for r in curve][-1] == 7 and len(curve) == 7
    # --init continues from a saved model: its first loss is the trained one, not a new head's
    more = TrainConfig(**{**cfg.__dict__, "max_steps": 1, "init": str(tmp_path / "run" / "model")})
    train(DATA, tmp_path / "more", more, progress=False)
    first = json.loads((tmp_path / "more" / "curve.jsonl").read_text().splitlines()[0])
    assert first["loss"] < curve[0]["loss"]


@needs_data
def test_save_load_round_trip_gives_identical_spans(tmp_path, seed_retriever):
    import torch

    from qa.neural import ModelReader
    from qa.span_model import load_model, new_model, save_model

    torch.manual_seed(1)
    model = new_model()
    with torch.no_grad():
        model.qa_outputs.weight.normal_(0, 0.5)
    save_model(model, tmp_path / "a", {})
    loaded, _ = load_model(tmp_path / "a")
    save_model(loaded, tmp_path / "b", {})
    q = "Who founded 01.AI?"
    hits = seed_retriever.search(q, k=5)
    spans = [[(a.doc_id, a.span, round(a.score, 6)) for a in ModelReader(seed_retriever.documents, model=p).read(q, hits)]
             for p in (tmp_path / "a", tmp_path / "b")]
    assert spans[0] and spans[0] == spans[1]
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


@needs_data
@pytest.mark.slow
def test_calibration_writes_a_head_and_weights_the_reader_loads(tmp_path, seed_retriever):
    import shutil

    from qa.calibration import calibrate
    from qa.neural import ModelReader
    from qa.span_model import SHIPPED_MODEL_DIR

    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL_DIR, model)
    figures = calibrate(DATA, model, limit=40)
    assert 0.0 <= figures["auc_right"] <= 1.0 and 0.0 <= figures["threshold"] <= 1.0
    reader = ModelReader(seed_retriever.documents, model=model)
    assert reader.verifier is not None and len(reader.verifier[0]) == 384
    assert reader.combination is not None
    assert reader.default_threshold == figures["threshold"]
    q = "Who founded 01.AI?"
    assert reader.read(q, seed_retriever.search(q, k=5))


@pytest.mark.parametrize("setting, message", [
    ({"epochs": -1}, "epochs must be above 0"),
    ({"lr": 0}, "lr must be above 0"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"max_length": 8}, "max_length must be 32 to 512"),
    ({"stride": 200}, "stride must be 0 or more and below half"),
    ({"shared_norm": -1.0}, "shared_norm must be 0 or more"),
    ({"answerability": -0.5}, "answerability must be 0 or more"),
    ({"negatives": -2, "max_steps": 0}, "negatives must be 0 or more, got -2; max_steps must be at least 1, got 0"),
])
def test_bad_settings_are_refused_before_any_work(setting, message):
    with pytest.raises(InputError, match=message):
        TrainConfig(**setting)


def test_the_cli_says_what_setting_is_wrong(tiny_file, tmp_path):
    from click.testing import CliRunner

    from qa.cli import main

    res = CliRunner().invoke(main, ["train-reader", "--data", str(tiny_file), "--out", str(tmp_path / "r"),
                                    "--epochs", "-1"])
    assert res.exit_code != 0 and "epochs must be above 0" in res.output
    assert not (tmp_path / "r" / "checkpoint").exists()


@needs_data
def test_resuming_with_other_settings_says_which(tmp_path):
    # A checkpoint of a run with the answerability head cannot resume without it: the message
    # names the setting, instead of torch failing to load the state.
    cfg = TrainConfig(limit=8, batch_size=4, max_steps=1, eval_every=1, checkpoint_every=1, answerability=1.0)
    train(DATA, tmp_path / "run", cfg, progress=False)
    plain = TrainConfig(**{**cfg.__dict__, "answerability": 0.0, "max_steps": 2})
    with pytest.raises(InputError, match=r"answerability=1\.0 \(now 0\.0\).*new --out folder"):
        train(DATA, tmp_path / "run", plain, progress=False)
    assert json.loads((tmp_path / "run" / "checkpoint" / "meta.json").read_text())["step"] == 1


def test_setting_changes_ignore_what_a_resumed_run_may_change():
    saved = {"lr": 1e-4, "max_steps": 10, "device": "cuda", "seed": 13}
    assert setting_changes(saved, {**saved, "max_steps": 20, "device": "cpu"}) == []
    assert setting_changes(saved, {**saved, "lr": 5e-5, "seed": 1}) == ["lr=0.0001 (now 5e-05)", "seed=13 (now 1)"]


def test_setting_changes_skip_settings_a_checkpoint_predates():
    assert setting_changes({"lr": 1e-4}, {"lr": 1e-4, "answerability": 0.0}) == []


@needs_data
def test_bf16_training_lowers_the_loss_and_saves_fp32_weights_the_reader_loads(tmp_path):
    cfg = TrainConfig(limit=12, batch_size=4, max_steps=6, eval_every=1, lr=3e-4, warmup=0.0,
                      epochs=3, precision="bf16", device="cpu")
    train(DATA, tmp_path / "run", cfg, progress=False)
    curve = [json.loads(line) for line in (tmp_path / "run" / "curve.jsonl").read_text().splitlines()]
    assert curve[-1]["loss"] < curve[0]["loss"]
    import torch
    from qa.span_model import load_model

    model, info = load_model(tmp_path / "run" / "model")
    assert info["train"]["precision"] == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_an_unknown_precision_is_refused():
    with pytest.raises(InputError, match="precision must be fp32 or bf16"):
        TrainConfig(precision="fp8")
