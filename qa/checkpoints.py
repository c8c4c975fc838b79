"""Resumable training state: the model and optimizer as safetensors plus JSON (no pickle),
written atomically, so an interrupted ``qa train-reader`` picks up where it stopped."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from qa.errors import InputError

log = logging.getLogger(__name__)

# Settings a resumed run may change: how long it goes on, where it runs and how often it reports.
# Any other difference (the model's shape, its data, its schedule) would load a state that does
# not match, or quietly train a different recipe than the one the run records.
RESUMABLE = frozenset({"epochs", "max_steps", "threads", "device", "precision", "eval_every",
                       "checkpoint_every", "dev_questions", "distractors"})


def setting_changes(saved: dict, now: dict) -> list[str]:
    """The settings, other than :data:`RESUMABLE` ones, on which a run's checkpoint and the
    resuming command differ, as ``name=saved (now new)``. A setting only one side has is not
    compared: a checkpoint written before a setting existed was trained with its default."""
    return [f"{k}={saved[k]!r} (now {now[k]!r})" for k in sorted(set(saved) & set(now))
            if k not in RESUMABLE and saved[k] != now[k]]


def save_checkpoint(out: Path, model, opt, sched, step: int, config: dict) -> None:
    """Model and optimizer state as safetensors plus JSON: no pickle, written atomically."""
    from safetensors.torch import save_file

    ck = out / "checkpoint"
    ck.mkdir(parents=True, exist_ok=True)
    tensors = {f"model/{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state = opt.state_dict()
    for idx, st in state["state"].items():
        for name, val in st.items():
            val = val.detach().cpu()
            tensors[f"opt/{idx}/{name}"] = val.reshape(-1).contiguous() if val.dim() == 0 else val.contiguous()
    save_file(tensors, str(ck / "state.safetensors.tmp"))
    (ck / "state.safetensors.tmp").replace(ck / "state.safetensors")
    meta = {"step": step, "config": config, "param_groups": state["param_groups"],
            "scheduler": sched.state_dict()}
    (ck / "meta.json.tmp").write_text(json.dumps(meta, default=str))
    (ck / "meta.json.tmp").replace(ck / "meta.json")


def check_resumable(out: Path, config: dict) -> None:
    """Refuse, before any data is prepared, to resume ``out``'s checkpoint with other settings.

    Raises:
        InputError: ``config`` (the resuming run's settings) differs from the checkpoint's in a
            setting outside :data:`RESUMABLE`.
    """
    meta_path = out / "checkpoint" / "meta.json"
    if not meta_path.is_file():
        return
    # Compared as JSON, the form the checkpoint stored them in.
    changed = setting_changes(json.loads(meta_path.read_text()).get("config", {}),
                              json.loads(json.dumps(config, default=str)))
    if changed:
        raise InputError(
            f"{out} holds a checkpoint of a run with other settings: {'; '.join(changed)}. "
            "Rerun with the checkpoint's settings to resume it, or give a new --out folder to start over")


def load_checkpoint(out: Path, model, opt, sched) -> int:
    """Restore a run's state from ``out/checkpoint`` and return its step (0 without one)."""
    from safetensors.torch import load_file

    ck = out / "checkpoint"
    if not (ck / "meta.json").is_file():
        return 0
    meta = json.loads((ck / "meta.json").read_text())
    # On the model's device: a run checkpointed on a GPU resumes on a CPU and the other way round.
    tensors = load_file(str(ck / "state.safetensors"), device=str(next(model.parameters()).device))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model/")})
    state: dict = {"state": {}, "param_groups": meta["param_groups"]}
    for k, v in tensors.items():
        if k.startswith("opt/"):
            _, idx, name = k.split("/")
            state["state"].setdefault(int(idx), {})[name] = v.reshape(()).cpu() if name == "step" else v
    opt.load_state_dict(state)
    sched.load_state_dict(meta["scheduler"])
    log.info("resumed from step %d", meta["step"])
    return int(meta["step"])
