"""The transformers reader path, on a tiny randomly initialised model built here."""
from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from qa.assistant import Assistant  # noqa: E402
from qa.config import ReaderConfig  # noqa: E402


@pytest.fixture(scope="module")
def tiny_qa_model(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-qa")
    words = sorted(
        set("who founded the company in what year was it a by of and . , ? lee kai-fu 2021".split())
    )
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=512,
    )
    BertForQuestionAnswering(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return str(folder)


def test_neural_reader_loads_and_returns_exact_spans(seed_retriever, tiny_qa_model):
    bot = Assistant(seed_retriever, ReaderConfig(reader="trained", model=tiny_qa_model))
    assert bot.reader.name == "transformers"
    reply = bot.ask("Who founded 01.AI?", threshold=0.0)
    assert reply.answer is not None
    a = reply.answer
    doc = seed_retriever.documents[a.doc_id]
    assert doc.text[a.span.start : a.span.end] == a.text
    assert 0.0 <= a.score <= 1.0
    for p in a.passages:
        for h in p.highlights:
            assert p.text[h.start : h.end] == a.text


@pytest.mark.parametrize("text,start,end,want", [
    ("generative AI", 0, 6, "generative"),
    ("the 01.AI firm", 5, 9, "01.AI"),
    ("Kai-fu Lee", 4, 10, "fu Lee"),
    ("word", 0, 4, "word"),
])
def test_spans_snap_to_whole_words(text, start, end, want):
    from qa.neural import snap_to_words

    a, b = snap_to_words(text, start, end)
    assert text[a:b] == want


@pytest.mark.parametrize("kind,expected,label,fit", [
    ("person", frozenset({"PERSON"}), "PERSON", 1.0),
    ("person", frozenset({"PERSON"}), "DATE", -1.0),
    ("person", frozenset({"PERSON"}), None, 0.0),
    ("description", frozenset({"DESC"}), "ORG", 0.0),
])
def test_type_fit(kind, expected, label, fit):
    from qa.neural import type_fit

    assert type_fit(kind, expected, label) == fit


def test_shipped_reader_on_onnx_reads_as_torch_does(seed_retriever, monkeypatch):
    import numpy as np

    from qa.neural import ModelReader

    onnx = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert onnx._onnx is not None
    monkeypatch.setenv("QA_READER_BACKEND", "torch")
    torch_reader = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert torch_reader._onnx is None
    for q in ("Who founded 01.AI?", "When did the interim regulation take effect?",
              "What is the capital of France?"):
        hits = seed_retriever.search(q, k=5)
        a, b = onnx.guesses(q, hits), torch_reader.guesses(q, hits)
        assert [(g.passage, g.start, g.end) for g in a] == [(g.passage, g.start, g.end) for g in b]
        assert np.allclose([g.margin for g in a], [g.margin for g in b], atol=1e-3)
        assert [x.text for x in onnx.read(q, hits)[:3]] == [x.text for x in torch_reader.read(q, hits)[:3]]


def test_pair_tokenizer_makes_the_windows_transformers_makes(seed_retriever):
    """The reader tokenises with `tokenizers` alone; training used transformers' tokenizer.
    Long passages (overflowing windows) and odd characters included."""
    from qa.span_model import PairTokenizer, tokenizer_for, windows

    docs = sorted(seed_retriever.documents.values(), key=lambda d: d.doc_id)
    passages = [d.text[:3000] for d in docs] + ["Café 🙂 ünïcode — “quotes”\n\nand ＦＵＬＬ width.", ""]
    fast, hf = PairTokenizer(), tokenizer_for()
    for q in ("Who founded 01.AI?", "what  is\tthe  Ernie Bot?"):
        for length, stride in ((256, 85), (64, 16)):
            a = windows(fast, q, passages, length, stride)
            assert len(a) > len(passages)  # long passages overflowed
            assert a == windows(hf, q, passages, length, stride)


def test_cached_reader_graph_loads_without_the_torch_model(seed_retriever, monkeypatch):
    from qa import span_model
    from qa.neural import ModelReader

    first = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert first._onnx is not None and first._onnx.path.exists()

    def no_torch(*a, **k):
        raise AssertionError("the torch model was built although its graph is cached")

    monkeypatch.setattr("qa.neural.load_model", no_torch)
    again = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert again.model is None and again._onnx.path == first._onnx.path
    q = "Who founded 01.AI?"
    hits = seed_retriever.search(q, k=5)
    assert [x.text for x in again.read(q, hits)[:3]] == [x.text for x in first.read(q, hits)[:3]]
    assert isinstance(again.tokenizer, span_model.PairTokenizer)


def test_the_cached_graph_outlives_a_recalibration_but_not_new_weights(tmp_path):
    """A new exit point or confidence weight in reader.json keeps the cached graph (no export
    on the next load); other weights or another architecture get a graph of their own."""
    import json
    import os
    import shutil

    from qa.onnx_models import reader_graph
    from qa.span_model import SHIPPED_MODEL_DIR, base_model_dir

    model = tmp_path / "reader_model"
    shutil.copytree(SHIPPED_MODEL_DIR, model)
    base = base_model_dir() / "model.safetensors"
    first = reader_graph(model, base)
    info = json.loads((model / "reader.json").read_text())
    info["stages"] = {"exit": {"1": 0.9}}
    info["confidence"]["bias"] = -1.0
    (model / "reader.json").write_text(json.dumps(info))
    assert reader_graph(model, base) == first
    info["config"]["num_hidden_layers"] = 4
    (model / "reader.json").write_text(json.dumps(info))
    assert reader_graph(model, base) != first
    info["config"]["num_hidden_layers"] = 6
    (model / "reader.json").write_text(json.dumps(info))
    assert reader_graph(model, base) == first
    weights = model / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert reader_graph(model, base) != first


def test_guesses_of_passages_read_before_come_from_the_cache(default_assistant, monkeypatch):
    """Reading on from 2 to 5 passages runs the model on the 3 new ones only, and gives what one
    read of all 5 gives."""
    import numpy as np

    reader = default_assistant.reader.model_reader
    q = "When did the interim regulation take effect?"
    hits = default_assistant.retriever.search(q, k=5)
    reader._guess_cache.clear()
    whole = reader.guesses(q, hits)
    reader._guess_cache.clear()
    seen = []
    forward = reader._forward
    monkeypatch.setattr(reader, "_forward", lambda question, passages: seen.append(len(passages)) or forward(question, passages))
    reader.guesses(q, hits[:2])
    staged = reader.guesses(q, hits)
    assert seen == [2, 3]
    assert [(g.passage, g.start, g.end) for g in staged] == [(g.passage, g.start, g.end) for g in whole]
    assert np.allclose([g.margin for g in staged], [g.margin for g in whole], atol=1e-3)
    # Another question over the same passages is read afresh.
    reader.guesses("Who founded 01.AI?", hits[:2])
    assert seen == [2, 3, 2]


def test_lru_forgets_the_least_recently_used():
    from qa.lru import LRU

    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # "b" is now the oldest
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
    lru.clear()
    assert lru.get("a") is None


def test_int8_reader_runs_a_quantised_graph_and_finds_the_same_spans(seed_retriever):
    """``quantize=True`` runs the shipped model's int8 graph (written once beside the fp32 one,
    then reused) and finds the spans fp32 finds on plain seed questions."""
    import numpy as np

    from qa.config import ReaderConfig
    import onnx

    from qa.neural import ModelReader
    from qa.onnx_models import INT8_FORM, fp32_nodes

    fp32 = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    int8 = ModelReader(seed_retriever.documents, ReaderConfig(quantize=True), annotations=seed_retriever.annotations)
    assert f"-{INT8_FORM}-" in int8._onnx.path.name and int8._onnx.path.parent == fp32._onnx.path.parent
    # The feed-forward down-projections of layers 0-3 stay in fp32, the rest is int8.
    ops = {n.name: n.op_type for n in onnx.load(str(int8._onnx.path)).graph.node}
    kept = [f"/m/bert/encoder/layer.{i}/output/dense/MatMul" for i in range(4)]
    assert fp32_nodes(fp32._onnx.path) == kept and all(ops[n] == "MatMul" for n in kept)
    assert ops["/m/bert/encoder/layer.4/output/dense/MatMul_quant"] == "MatMulInteger"
    # Every other fp32 product is of two activations (attention), which has no weights to quantise.
    assert all(n in kept or "/attention/self/MatMul" in n for n, t in ops.items() if t == "MatMul")
    assert int8._onnx.path.stat().st_size < 0.4 * fp32._onnx.path.stat().st_size
    again = ModelReader(seed_retriever.documents, ReaderConfig(quantize=True), annotations=seed_retriever.annotations)
    assert again._onnx.path == int8._onnx.path
    for q in ("Who founded 01.AI?", "When did the interim regulation take effect?"):
        hits = seed_retriever.search(q, k=5)
        a, b = fp32.read(q, hits), int8.read(q, hits)
        assert a[0].text == b[0].text
        assert np.isclose(a[0].score, b[0].score, atol=0.1)


def test_a_length_penalty_prefers_the_shorter_of_two_close_spans():
    """best_span chooses by start+end logit less the penalty per extra token, and returns the
    chosen span's own logit, so that margins keep their calibration."""
    import numpy as np

    from qa.span_model import Window, best_span

    # [CLS] q [SEP] t0 t1 t2 t3 [SEP]: passage tokens at positions 3-6, each one character.
    offsets = (None, None, None, (0, 1), (1, 2), (2, 3), (3, 4), None)
    w = Window(tuple(range(8)), (0,) * 8, offsets, 0)
    s = np.zeros(8, dtype=np.float32)
    e = np.zeros(8, dtype=np.float32)
    s[3], e[6], e[3] = 3.0, 3.0, 2.5  # t0..t3 scores 6.0, t0 alone 5.5
    s[0] = e[0] = 1.0
    long, short = best_span(w, s, e), best_span(w, s, e, length_penalty=0.2)
    assert (long.start, long.end, long.score) == (0, 4, 6.0)
    assert (short.start, short.end, short.score) == (0, 1, 5.5)
    assert short.null_score == long.null_score == 2.0
    assert best_span(w, s, e, length_penalty=0.1).end == 4  # 6.0 - 0.3 > 5.5


def test_the_shipped_reader_takes_its_length_penalty_from_reader_json(seed_retriever, monkeypatch):
    """``decoding.length_penalty`` in reader.json (eval/span_length.py writes it; the shipped
    model has none: it cost the combined reader on both benchmarks) makes every window's span
    no longer than without it."""
    import qa.neural as neural
    from qa.neural import ModelReader

    plain = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert plain.length_penalty == 0.0
    real = neural.read_info
    monkeypatch.setattr(neural, "read_info", lambda src: {**real(src), "decoding": {"length_penalty": 0.5}})
    short = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    assert short.length_penalty == 0.5
    q = "What is iFlytek best known for?"
    hits = seed_retriever.search(q, k=5)
    a, b = plain.guesses(q, hits), short.guesses(q, hits)
    assert len(a) == len(b)
    assert all(y.end - y.start <= x.end - x.start for x, y in zip(a, b))
    assert any(y.end - y.start < x.end - x.start for x, y in zip(a, b))

def test_the_length_penalty_choice_goes_to_the_best_and_ties_to_the_smallest():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("span_length", ROOT / "eval" / "span_length.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.choose({0.0: 0.60, 0.1: 0.62, 0.2: 0.62, 0.3: 0.61}) == 0.1
    assert mod.choose({0.0: 0.60, 0.1: 0.59}) == 0.0
