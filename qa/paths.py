"""Default locations of the seed corpus and the built index."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_corpus() -> Path:
    """``$QA_CORPUS``, else ``./seeds``, else the seeds folder of the source tree."""
    if os.environ.get("QA_CORPUS"):
        return Path(os.environ["QA_CORPUS"])
    local = Path("seeds")
    return local if local.is_dir() else REPO_ROOT / "seeds"


def default_index() -> Path:
    """``$QA_INDEX``, else ``./index``."""
    return Path(os.environ.get("QA_INDEX", "index"))
