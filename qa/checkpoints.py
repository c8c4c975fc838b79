"""Resumable training state: the model and optimizer as safetensors plus JSON (no pickle),
written atomically, so an interrupted ``qa train-reader`` picks up where it stopped."""
from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)


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


def load_checkpoint(out: Path, model, opt, sched) -> int:
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
