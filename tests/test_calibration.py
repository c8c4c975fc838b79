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


def _trial_module():
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("trial_model", ROOT / "eval" / "trial_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_trial_model_reads_as_the_shipped_reader_but_keeps_its_own_training_record(tmp_path):
    """eval/trial_model.py: the trial folder takes the shipped combination and exit points, and
    keeps the candidate's weights and training record; the trained folder is left as it was."""
    import json
    import shutil

    from tests.conftest import ROOT

    mod = _trial_module()
    shipped = json.loads((ROOT / "qa/reader_model/reader.json").read_text())
    cand_dir = tmp_path / "run" / "model"
    cand_dir.mkdir(parents=True)
    shutil.copyfile(ROOT / "qa/reader_model/model.safetensors", cand_dir / "model.safetensors")
    own = {"format_version": 1, "base": shipped["base"], "config": shipped["config"],
           "train": {"epochs": 2, "negatives": 1}, "step": 3498,
           "combination": {"bias": 0.0, "model": 1.0, "threshold": 0.5}}
    (cand_dir / "reader.json").write_text(json.dumps(own))
    before = (cand_dir / "reader.json").read_text()

    out = mod.prepare(cand_dir, tmp_path / "run" / "trial")
    info = json.loads((out / "reader.json").read_text())
    assert info["combination"] == shipped["combination"] and info["stages"] == shipped["stages"]
    assert info["train"] == own["train"] and info["step"] == 3498
    assert (out / "model.safetensors").read_bytes() == (cand_dir / "model.safetensors").read_bytes()
    assert (cand_dir / "reader.json").read_text() == before
