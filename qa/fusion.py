"""Pure score-fusion functions for hybrid retrieval. No I/O, no state."""
from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from qa.config import FusionMethod

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], k: int = 60) -> dict[K, float]:
    """RRF (Cormack et al., 2009): ``sum 1 / (k + rank)`` over the rankings that list an item.

    Example:
        >>> reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=0)
        {'a': 1.0, 'b': 1.5, 'c': 0.5}
    """
    if k < 0:
        raise ValueError(f"rrf k must be >= 0, got {k}")
    out: dict[K, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            out[key] = out.get(key, 0.0) + 1.0 / (k + rank)
    return out


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scale scores to [0, 1]. Equal scores carry no ranking signal and all become 0."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return {key: 0.0 for key in scores}
    return {key: (v - lo) / (hi - lo) for key, v in scores.items()}


def weighted_fusion(
    lexical: Mapping[K, float], dense: Mapping[K, float], dense_weight: float = 0.5
) -> dict[K, float]:
    """Convex combination of min-max normalised scores over the union of candidates.

    An item missing from one component gets that component's minimum (0 after scaling).

    Example:
        >>> weighted_fusion({"a": 2.0, "b": 0.0}, {"a": 0.1, "b": 0.5}, dense_weight=0.5)
        {'a': 0.5, 'b': 0.5}
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be in [0, 1], got {dense_weight}")
    lex, den = min_max(lexical), min_max(dense)
    keys = list(dict.fromkeys([*lexical, *dense]))
    return {
        key: (1.0 - dense_weight) * lex.get(key, 0.0) + dense_weight * den.get(key, 0.0)
        for key in keys
    }


def fuse(
    method: FusionMethod | str,
    lexical: Mapping[K, float],
    dense: Mapping[K, float],
    *,
    dense_weight: float = 0.5,
    rrf_k: int = 60,
) -> dict[K, float]:
    """Fuse two score maps with the named method (``rrf`` or ``weighted``)."""
    method = FusionMethod.parse(method)
    if method is FusionMethod.RRF:
        rank = lambda s: sorted(s, key=lambda key: (-s[key], str(key)))  # noqa: E731
        return reciprocal_rank_fusion([rank(lexical), rank(dense)], k=rrf_k)
    return weighted_fusion(lexical, dense, dense_weight)


def top_k(scores: Mapping[K, float], k: int) -> list[tuple[K, float]]:
    """The ``k`` best items, ties broken by key so results are deterministic."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))[:k]
