"""The packaged MiniLM encoder and the FAISS index keyed by chunk id."""
from __future__ import annotations

import numpy as np
import pytest

from qa.dense import DenseIndex
from qa.errors import IndexError_


def test_encoder_is_the_packaged_model_and_normalises(encoder):
    v = encoder.encode(["Who founded 01.AI?", "Lee Kai-fu founded 01.AI.", "The Nile flows north."])
    assert v.shape == (3, encoder.dim) == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    q = encoder.encode_query("Who founded 01.AI?")
    assert np.allclose(q, v[0], atol=1e-5) and not q.flags.writeable


def _vecs(n: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_add_remove_by_chunk_id():
    ix = DenseIndex(8)
    v = _vecs(5)
    ix.add([100, 101, 102, 103, 104], v)
    assert len(ix) == 5
    top = ix.search(v[2], 2)
    assert next(iter(top)) == 102 and top[102] == pytest.approx(1.0, abs=1e-5)
    assert ix.scores_for(v[2], [104])[104] == pytest.approx(float(v[2] @ v[4]), abs=1e-5)
    ix.remove({102})
    assert 102 not in ix.search(v[2], 5) and len(ix) == 4
    assert ix.search(v[0], 0) == {} and DenseIndex(8).search(v[0], 3) == {}
    with pytest.raises(ValueError):
        ix.add([1, 2], v[:1])


def test_save_load_and_damage(tmp_path):
    ix = DenseIndex(8)
    ix.add([7, 8], _vecs(2))
    ix.save(tmp_path / "dense.faiss")
    back = DenseIndex.load(tmp_path / "dense.faiss", 8)
    assert np.allclose(back.vectors([7, 8]), ix.vectors([7, 8]))
    with pytest.raises(IndexError_, match="dimension"):
        DenseIndex.load(tmp_path / "dense.faiss", 384)
    (tmp_path / "bad.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexError_, match="unreadable"):
        DenseIndex.load(tmp_path / "bad.faiss", 8)


def test_ivf_index_finds_what_the_exact_scan_finds(tmp_path):
    import qa.dense

    rng = np.random.default_rng(1)
    centres = _vecs(40, 32, seed=2)
    v = centres[rng.integers(0, 40, 4000)] + 0.3 * rng.normal(size=(4000, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact, ivf = DenseIndex(32, "exact"), DenseIndex(32, "ivf", nprobe=48)
    ids = list(range(1000, 5000))
    exact.add(ids, v)
    ivf.add(ids[:2000], v[:2000])
    ivf.add(ids[2000:], v[2000:])
    assert ivf.approximate and not exact.approximate and len(ivf) == 4000
    queries = v[rng.integers(0, 4000, 50)]
    recall = np.mean([len(set(exact.search(q, 10)) & set(ivf.search(q, 10))) / 10 for q in queries])
    assert recall >= 0.9
    ivf.remove({1000, 1001})
    assert len(ivf) == 3998 and 1000 not in ivf.search(v[0], 10)
    assert ivf.scores_for(v[5], [1005])[1005] == pytest.approx(1.0, abs=1e-2)  # 8-bit vectors
    ivf.save(tmp_path / "ivf.faiss")
    back = DenseIndex.load(tmp_path / "ivf.faiss", 32, nprobe=48)
    assert back.approximate and back.search(v[7], 3) == ivf.search(v[7], 3)
    auto = DenseIndex(32)
    auto.add(ids[:100], v[:100])
    assert not auto.approximate
    qa.dense.AUTO_IVF_VECTORS, old = 1000, qa.dense.AUTO_IVF_VECTORS
    try:
        auto.add(ids[100:], v[100:])
    finally:
        qa.dense.AUTO_IVF_VECTORS = old
    assert auto.approximate and len(auto) == 4000


def test_onnx_encoder_gives_torch_vectors(encoder):
    from qa.dense import Encoder

    assert encoder.backend == "onnx"
    torch_enc = Encoder(encoder.name, backend="torch")
    texts = ["Who founded 01.AI?", "word " * 400, "Ernie Bot has 100 million users.", "é ü 中文"]
    cos = (encoder.encode(texts) * torch_enc.encode(texts)).sum(axis=1)
    assert cos.min() >= 0.99  # measured 0.9999996


def test_onnx_graphs_are_fused(encoder, seed_retriever):
    """Both exported graphs have each layer's attention as one operator (ONNX Runtime's
    optimiser), which it finds only in an export with eager attention."""
    from collections import Counter

    import onnx

    from qa.neural import ModelReader

    reader = ModelReader(seed_retriever.documents, annotations=seed_retriever.annotations)
    for path in (encoder._onnx.path, reader._onnx.path):
        ops = Counter(n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node)
        assert ops["Attention"] == 6 and ops["SkipLayerNormalization"] == 12, (path, ops)


def test_encoder_falls_back_to_torch_when_onnx_cannot_run(monkeypatch, tmp_path):
    import qa.onnx_models
    from qa.dense import Encoder
    from qa.errors import QAError

    def broken(*a, **k):
        raise OSError("read-only cache")

    monkeypatch.setattr(qa.onnx_models, "export", broken)
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "empty"))
    enc = Encoder("all-MiniLM-L6-v2")
    assert enc.backend == "torch" and enc.encode(["hello"]).shape == (1, 384)
    with pytest.raises(QAError, match="ONNX"):
        Encoder("all-MiniLM-L6-v2", backend="onnx")


def test_cache_falls_back_to_a_temporary_folder_when_home_is_read_only(monkeypatch, tmp_path):
    import qa.onnx_models
    from qa.onnx_models import cache_dir

    monkeypatch.delenv("QA_CACHE_DIR", raising=False)
    monkeypatch.setattr("pathlib.Path.home", lambda: tmp_path / "home")
    assert cache_dir() == tmp_path / "home" / ".cache" / "qa"
    monkeypatch.setattr(qa.onnx_models.os, "access", lambda path, mode: False)  # a read-only home
    fallback = cache_dir()
    assert not str(fallback).startswith(str(tmp_path / "home")) and "qa-cache" in fallback.name
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_the_graph_cache_keeps_the_newest_graph_of_each_model_and_a_bounded_number(tmp_path):
    import os

    from qa.onnx_models import prune_cache, touch

    def graph(name, age):
        path = tmp_path / f"{name}.onnx"
        path.write_bytes(b"x")
        os.utime(path, (1000 - age, 1000 - age))
        return path

    shipped = graph("reader_model-old", 9)
    graph("reader_model-older", 10)
    for i in range(4):
        graph(f"throwaway{i}-1", i)
    graph("throwaway0-0", 5)  # an older version of a throwaway model
    (tmp_path / "notes.txt").write_text("not a graph")
    touch(shipped)  # loaded just now
    gone = prune_cache(tmp_path, keep=4)
    assert sorted(p.name for p in gone) == ["reader_model-older.onnx", "throwaway0-0.onnx", "throwaway3-1.onnx"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "reader_model-old.onnx", "throwaway0-1.onnx", "throwaway1-1.onnx", "throwaway2-1.onnx"]
    assert prune_cache(tmp_path, keep=4) == []


def test_small_saves_write_a_delta_and_open_applies_it(tmp_path):
    import numpy as np

    from qa import dense

    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(30, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ix = DenseIndex(8)
    ix.add(list(range(20)), vecs[:20])
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir(), v2.mkdir()
    assert ix.save_into(v1) is False  # a new index is written whole
    ix.saved_into(v1, False)
    back = DenseIndex.open(v1, 8)
    back.add(list(range(20, 30)), vecs[20:])
    back.remove({3, 25})
    assert back.save_into(v2) is True
    back.saved_into(v2, True)
    assert (v2 / dense.FILE).stat().st_ino == (v1 / dense.FILE).stat().st_ino
    again = DenseIndex.open(v2, 8)
    assert len(again) == 28
    for q in vecs[:5]:
        assert again.search(q, 10) == back.search(q, 10)
    assert 3 not in again.search(vecs[3], 30) and 25 not in again.search(vecs[25], 30)


def test_a_faiss_file_damaged_in_place_is_written_afresh_not_linked(tmp_path):
    import numpy as np

    from qa import dense

    ix = DenseIndex(4)
    ix.add([1, 2], np.eye(4, dtype=np.float32)[:2])
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir(), v2.mkdir()
    ix.save_into(v1)
    ix.saved_into(v1, False)
    with (v1 / dense.FILE).open("r+b") as fh:  # damaged in place
        fh.seek(-8, 2)
        fh.write(b"\x07" * 8)
    assert ix.save_into(v2) is False
    assert (v2 / dense.FILE).stat().st_ino != (v1 / dense.FILE).stat().st_ino
    assert DenseIndex.open(v2, 4).search(np.eye(4, dtype=np.float32)[1], 1) == {2: 1.0}
