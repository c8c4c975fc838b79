"""The answering half reproduces the golden answers of both benchmarks (eval/golden.py)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def golden():
    spec = importlib.util.spec_from_file_location("golden", ROOT / "eval" / "golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rule_reader_reproduces_the_golden_answers(golden, seed_retriever):
    expected = json.loads(golden.GOLDEN.read_text())
    now = golden.collect(seed_retriever)
    assert golden.differences(expected, now) == []
    if "squad/rules" not in now:
        pytest.skip(f"{golden.SQUAD} is not here; only the seed questions were checked")
    assert set(now) == set(expected)
    assert sum(len(v) for v in now.values()) > 1000


def test_differences_name_the_changed_question(golden):
    want = {"b": {"q1": [["Lee Kai-fu", "d", 0, 10, 0.5]]}}
    assert golden.differences(want, {"b": {"q1": [["Lee Kai-fu", "d", 0, 10, 0.500001]]}}) == []
    diffs = golden.differences(want, {"b": {"q1": [["Kai-fu", "d", 4, 10, 0.5]]}})
    assert len(diffs) == 1 and "q1" in diffs[0]
