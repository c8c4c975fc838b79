import pytest

from qa.errors import InputError
from qa.fusion import fuse, min_max, reciprocal_rank_fusion, top_k, weighted_fusion


class TestRRF:
    @pytest.mark.parametrize("rankings", [[], [[]], [[], []]])
    def test_empty(self, rankings):
        assert reciprocal_rank_fusion(rankings) == {}

    def test_sum_of_reciprocal_ranks(self):
        out = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
        assert out["b"] == pytest.approx(1 / 62 + 1 / 61)
        assert out["a"] == pytest.approx(1 / 61)
        assert max(out, key=out.get) == "b"

    def test_negative_k(self):
        with pytest.raises(ValueError):
            reciprocal_rank_fusion([["a"]], k=-1)


class TestWeighted:
    def test_empty(self):
        assert weighted_fusion({}, {}) == {}

    def test_weight_extremes(self):
        lex, den = {"a": 5.0, "b": 1.0}, {"a": 0.1, "b": 0.9}
        assert top_k(weighted_fusion(lex, den, 0.0), 1)[0][0] == "a"
        assert top_k(weighted_fusion(lex, den, 1.0), 1)[0][0] == "b"

    def test_missing_component_counts_as_minimum(self):
        out = weighted_fusion({"a": 3.0, "b": 1.0}, {"c": 0.5, "b": 0.2}, 0.5)
        assert set(out) == {"a", "b", "c"}
        assert out["a"] == pytest.approx(0.5)

    @pytest.mark.parametrize("w", [-0.1, 1.5])
    def test_bad_weight(self, w):
        with pytest.raises(ValueError):
            weighted_fusion({"a": 1}, {"a": 1}, w)


def test_min_max_constant_scores_carry_no_signal():
    assert min_max({"a": 2.0, "b": 2.0}) == {"a": 0.0, "b": 0.0}


def test_fuse_rejects_unknown_method_listing_valid_ones():
    with pytest.raises(InputError, match="rrf, weighted"):
        fuse("borda", {"a": 1.0}, {"a": 1.0})


def test_top_k_ties_are_deterministic():
    assert top_k({"b": 1.0, "a": 1.0, "c": 0.5}, 2) == [("a", 1.0), ("b", 1.0)]
