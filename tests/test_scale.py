"""qa.scale: the --scale benchmark builds a complete index, opens it in a fresh process and
measures it. A small run checks that every figure is there and plausible."""
from __future__ import annotations

import pytest

from qa import scale

pytestmark = pytest.mark.skipif(not (scale.SHARED / "bench").exists(), reason="needs ../shared")


def test_small_scale_run_reports_every_figure():
    report = scale.run(1_500, material=scale.Material(max_sentences=400))
    assert report["chunks"] == 1_500 and report["lexical_engine"] == "rank-bm25"
    for key in ("open_s", "lexical_p50_ms", "dense_p50_ms", "hybrid_p50_ms", "add_document_s",
                "remove_document_s", "save_after_add_s", "serve_rss_mb", "index_size_mb"):
        assert report[key] > 0, key
    assert report["dense_recall_at_10"] == 1.0  # an exact scan at this size
    assert report["hybrid_p50_ms"] >= report["embed_p50_ms"]  # the embedding is inside
