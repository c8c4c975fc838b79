"""Config validation, enum parsing and the JSON round trip."""
from __future__ import annotations

import pytest

from qa.config import (
    ChunkConfig, FusionMethod, ReaderConfig, ReaderKind, RetrieverConfig, SearchMode, from_json, to_json,
)
from qa.errors import InputError


def test_enums_parse_strings_and_refuse_unknown_values_clearly():
    cfg = RetrieverConfig(mode="bm25", fusion="rrf")
    assert cfg.mode is SearchMode.BM25 and cfg.fusion is FusionMethod.RRF
    assert ReaderConfig(reader="rules").reader is ReaderKind.RULES
    with pytest.raises(InputError, match="hybrid"):
        RetrieverConfig(mode="fuzzy")


@pytest.mark.parametrize("make", [
    lambda: ChunkConfig(size=10), lambda: ChunkConfig(size=100, overlap=100),
    lambda: RetrieverConfig(dense_weight=1.5), lambda: ReaderConfig(passages=0),
    lambda: ReaderConfig(max_tokens=8),
])
def test_bad_values_are_refused(make):
    with pytest.raises(InputError):
        make()


def test_json_round_trip_ignores_unknown_keys():
    cfg = RetrieverConfig(chunk=ChunkConfig(300, 50), mode="dense", dense_weight=0.3)
    data = to_json(cfg)
    assert data["mode"] == "dense" and data["chunk"] == {"size": 300, "overlap": 50}
    assert from_json(RetrieverConfig, {**data, "from_a_newer_version": 1}) == cfg


def test_index_key_changes_only_with_what_shapes_the_index():
    base = RetrieverConfig()
    assert base.index_key() == RetrieverConfig(mode="bm25", dense_weight=0.2).index_key()
    assert base.index_key() != RetrieverConfig(chunk=ChunkConfig(300, 50)).index_key()


@pytest.mark.parametrize("bad", [(0,), (2, 1), (1, 1), (1.5,), (True,), "12", 2])
def test_stages_must_be_increasing_passage_counts(bad):
    with pytest.raises(InputError, match="stages"):
        ReaderConfig(stages=bad)


def test_stages_survive_the_json_round_trip():
    assert ReaderConfig().stages == (1, 2, 3) and ReaderConfig(stages=[2]).stages == (2,)
    assert from_json(ReaderConfig, to_json(ReaderConfig(stages=(1, 3)))).stages == (1, 3)
