"""The answerability head's choice between a head trained with the model and a refit (qa.calibration)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from qa.calibration import choose_head  # noqa: E402


def _windows(n: int = 400, seed: int = 0):
    """Windows whose label depends on the first coordinate only, five to a question."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    y = x[:, 0] + 0.3 * rng.normal(size=n) > 0.5
    return x, y, [i // 5 for i in range(n)]


def test_a_trained_head_that_ranks_the_windows_well_is_kept_as_it_is():
    x, y, groups = _windows()
    trained = {"weights": [1.0, 0, 0, 0, 0, 0], "bias": -0.5, "fitted_on": "training: the answerability loss"}
    head, figures = choose_head(x, y, groups, trained)
    assert figures["verifier_kept"] == "trained" and head["weights"] == trained["weights"]
    assert head["fitted_on"] == trained["fitted_on"]
    assert figures["verifier_trained_auc"] >= figures["verifier_cv_auc"] > 0.9


def test_a_trained_head_that_ranks_worse_than_a_refit_is_replaced():
    x, y, groups = _windows()
    useless = {"weights": [0, 0, 0, 0, 0, 1.0], "bias": 0.0, "fitted_on": "training"}
    head, figures = choose_head(x, y, groups, useless)
    assert figures["verifier_kept"] == "refit" and figures["verifier_trained_auc"] < 0.7
    assert head["fitted_on"].startswith("calibration")
    scores = x @ np.array(head["weights"]) + head["bias"]
    assert np.mean((scores > 0) == y) > 0.85  # the refit learnt the first coordinate
    assert abs(head["weights"][0]) > 3 * max(abs(w) for w in head["weights"][1:])


def test_without_a_trained_head_the_refit_is_returned_with_its_cross_validated_auc():
    x, y, groups = _windows(seed=1)
    head, figures = choose_head(x, y, groups)
    assert figures["verifier_kept"] == "refit" and "verifier_trained_auc" not in figures
    assert figures["verifier_windows"] == 400 and 0 < figures["verifier_positive_share"] < 1
