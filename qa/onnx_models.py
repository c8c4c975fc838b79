"""The models run by ONNX Runtime: the packaged MiniLM encoder and the shipped span reader.

The encoder is about four times faster than torch on 2 cores (a query in 2.9 ms instead of
11.3), with the same vectors (cosine >= 0.9999996).

The ONNX graph (the transformer, mean pooling and normalisation, as sentence-transformers
applies them) is exported from the packaged weights on first use, into a cache folder
(``$QA_CACHE_DIR``, else ``~/.cache/qa``), and reused after. Nothing is downloaded. The int8
form was measured too: 1.5 ms a query, but its vectors fell to cosine 0.968 of torch's, under
the 0.99 the project requires, so it is not used.

Both graphs are exported with attention written out (``eager``, not PyTorch's fused SDPA op),
so that ONNX Runtime's transformer optimiser can fuse each layer's attention, LayerNorms and
GELU into single operators: about 10% faster on 2 cores, outputs within 2e-5 of the unfused
graph. In the SDPA export it found no attention to fuse (eval/README.md).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_VERSION = 2  # bump when the exported graph changes (2: eager attention, fused)


def cache_dir() -> Path:
    """``$QA_CACHE_DIR``, else ``~/.cache/qa``, else (a read-only home) a folder in the
    system's temporary directory."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    home = Path.home() / ".cache" / "qa"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"qa-cache-{os.getuid()}"


def _fingerprint(*files: Path, extra: str = "") -> str:
    h = hashlib.sha256(f"v{_EXPORT_VERSION}{extra}".encode())
    for f in files:
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    # Idle threads must not spin: FAISS and torch run right after on the same 2 cores
    # (spinning made a 46-chunk FAISS search take 3.7 ms instead of 0.1).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


KEEP_GRAPHS = 8  # per folder of the cache; each graph is about 90 MB


def prune_cache(folder: Path, keep: int = KEEP_GRAPHS) -> list[Path]:
    """Delete stale graphs in ``folder``; returns the deleted.

    Graphs are named ``<model folder>-<weights stamp>.onnx``, so every retrained or recalibrated
    model adds one, 90 MB each, forever. Only the most recently used graph of each model name is
    kept (an older stamp is an older version of that model), and at most ``keep`` graphs in all.
    Throwaway models (a test suite's, say) thus never push out the shipped model's graph until
    there are many of them. "Used" is the file's modification time, which :func:`touch`
    refreshes on each load.
    """
    graphs = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    seen: set[str] = set()
    gone = []
    for path in graphs:
        name = path.stem.rsplit("-", 1)[0]
        if name in seen or len(seen) >= keep:
            try:
                path.unlink()  # a process that has it open keeps reading it (POSIX)
                gone.append(path)
            except OSError:
                pass
        else:
            seen.add(name)
    return gone


def touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:  # a read-only cache still serves; it only forgets what is recent
        pass


def eager(model):
    """``model`` with its attention as plain products and a softmax, the pattern ONNX Runtime's
    optimiser fuses (same weights, same outputs)."""
    try:
        model.set_attn_implementation("eager")
    except (AttributeError, ValueError):  # an older transformers
        model.config._attn_implementation = "eager"
    return model


def _fuse(path: Path, heads: int, hidden: int) -> None:
    """Fuse the BERT graph at ``path`` in place (attention, LayerNorm, GELU). A graph the
    optimiser cannot fuse is kept as it is: it runs the same, only slower."""
    try:
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden)
        fused.save_model_to_file(str(path))
    except Exception as exc:  # an onnxruntime without the optimiser, an unknown pattern...
        log.warning("ONNX graph not fused (%s: %s); it runs unfused", type(exc).__name__, exc)


def _write_graph(module, outputs: list[str], target: Path, config=None) -> None:
    """Export ``module(input_ids, attention_mask, token_type_ids)`` to ``target``, atomically,
    fused when the BERT ``config`` is given, then prune the older graphs beside it."""
    import torch

    sample = torch.ones((2, 8), dtype=torch.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on opsets and tracing
            torch.onnx.export(
                module.eval(), (sample, sample, torch.zeros_like(sample)), tmp,
                input_names=list(_INPUTS), output_names=outputs,
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in _INPUTS},
                              **{n: {0: "batch"} for n in outputs}},
                opset_version=17, dynamo=False)
        if config is not None:
            _fuse(Path(tmp), config.num_attention_heads, config.hidden_size)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    prune_cache(target.parent)


def _feed(encs) -> dict[str, np.ndarray]:
    """Right-padded int64 inputs from ``tokenizers`` encodings."""
    width = max(len(e.ids) for e in encs)
    feed = {n: np.zeros((len(encs), width), dtype=np.int64) for n in _INPUTS}
    for i, e in enumerate(encs):
        n = len(e.ids)
        feed["input_ids"][i, :n] = e.ids
        feed["attention_mask"][i, :n] = 1
        feed["token_type_ids"][i, :n] = e.type_ids
    return feed


def export(model_dir: Path, target: Path) -> None:
    """Write the ONNX graph of a mean-pooled, normalised BERT-style encoder, atomically."""
    import torch
    from transformers import AutoModel

    model = eager(AutoModel.from_pretrained(str(model_dir)).eval())

    class Pooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.m(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(h.dtype)
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(v, dim=-1)

    _write_graph(Pooled(model), ["embedding"], target, model.config)


class OnnxEncoder:
    """``encode(texts) -> float32 [n, dim]`` with ONNX Runtime; raises when it cannot run."""

    def __init__(self, model_dir: Path, max_tokens: int = 256) -> None:
        from tokenizers import Tokenizer

        stamp = _fingerprint(*(model_dir / n for n in ("config.json", "model.safetensors", "tokenizer.json")))
        path = cache_dir() / "encoders" / f"{model_dir.name}-{stamp}.onnx"
        if not path.exists():
            log.info("exporting the embedding model to ONNX (once): %s", path)
            export(model_dir, path)
        self.session = _session(path)
        touch(path)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()
        self.path = path
        self.dim = int(self.encode(["probe"]).shape[1])

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        return self.session.run(None, _feed(self.tokenizer.encode_batch(list(texts))))[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        # Batches of similar length waste little on padding (as sentence-transformers does).
        from tqdm import tqdm

        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), getattr(self, "dim", 0) or 1), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        for a in tqdm(starts, desc="embed", unit="batch", disable=len(texts) <= 256, leave=False):
            idx = order[a : a + batch_size]
            vecs = self._run([texts[i] for i in idx])
            if out.shape[1] != vecs.shape[1]:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        return out


INT8_FORM = "int8ffn"  # in the cached graph's name: a new form is quantised afresh
_FFN_DOWN = re.compile(r"layer\.(\d+)/output/dense/MatMul$")


def fp32_nodes(graph: Path) -> list[str]:
    """The nodes the int8 form keeps in fp32: the feed-forward down-projections of all but the
    last two layers. Their input follows a GELU and has a few very large values, so one scale
    for the whole tensor leaves the rest of it a handful of levels. Measured on the benchmarks'
    retrieved passages against fp32: the best span agrees in 86% of windows instead of 79%, the
    span-over-null margin moves 0.50 instead of 0.81; quantising those of the last two layers
    too cost nothing (eval/README.md)."""
    import onnx

    found = [(int(m.group(1)), n.name) for n in onnx.load(str(graph), load_external_data=False).graph.node
             if n.op_type == "MatMul" and (m := _FFN_DOWN.search(n.name))]
    last = max((i for i, _ in found), default=-1)
    return [name for i, name in found if i < last - 1]


def reader_graph(model_dir: Path, base_weights: Path) -> Path:
    """Where the ONNX graph of a shipped reader is cached, named by its weights' stamp."""
    # The shipped model takes its word embeddings from the packaged encoder's weights.
    # Of reader.json only what shapes the graph counts: a recalibration (confidence weights,
    # exit points) must not cost an export (5 s, 1.4 GB of torch) on the next load.
    info = json.loads((model_dir / "reader.json").read_text())
    shape = json.dumps({k: info.get(k) for k in ("format_version", "base", "config")}, sort_keys=True)
    stamp = _fingerprint(model_dir / "model.safetensors", base_weights, extra=shape)
    return cache_dir() / "readers" / f"{model_dir.name}-{stamp}.onnx"


def int8_graph(graph: Path) -> Path:
    """The int8 form of a cached reader graph, written beside it on first use (atomically).

    Dynamic quantisation with one scale per output channel: the weights in int8, activations
    quantised on the fly, except where that loses most (:func:`fp32_nodes`). On 2 cores it runs
    the span model 1.6x faster than fp32 (27 against 44 ms for 5 short passages);
    eval/README.md compares the forms."""
    name, stamp = graph.stem.rsplit("-", 1)
    target = graph.parent / f"{name}-{INT8_FORM}-{stamp}.onnx"
    if target.exists():
        return target
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=graph.parent)
    os.close(fd)
    try:
        log.info("quantising the reader model to int8 (once): %s", target)
        # The quantiser logs a suggestion to pre-process the graph on the root logger; the
        # benchmark measured this graph as it is.
        quiet = logging.Filter("no-such-logger")
        logging.getLogger().addFilter(quiet)
        try:
            # The fused operators are ONNX Runtime's own, which the quantiser's shape inference
            # does not type: their outputs are float.
            quantize_dynamic(str(graph), tmp, weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=fp32_nodes(graph),
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        finally:
            logging.getLogger().removeFilter(quiet)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    prune_cache(graph.parent)
    return target


class OnnxSpanModel:
    """The shipped span reader (``qa.span_model``) on ONNX Runtime: ``run(windows)`` gives the
    start and end logits and the last layer's [CLS] vector of each window, as the torch model
    does. The graph is exported from the torch model once (:meth:`export`) and cached; later
    loads need neither torch nor the model's weights."""

    def __init__(self, path: Path) -> None:
        self.session = _session(path)
        self.path = path
        touch(path)

    @staticmethod
    def export(torch_model, path: Path) -> Path:
        """Write the graph of a torch span model to ``path`` (no session is opened: the caller
        may run its int8 form instead)."""
        log.info("exporting the reader model to ONNX (once): %s", path)
        _write_graph(_SpanHeads(eager(torch_model)), ["start_logits", "end_logits", "cls"], path,
                     torch_model.config)
        return path

    def run(self, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feed = {n: arrays.get(n, np.zeros_like(arrays["input_ids"])) for n in _INPUTS}
        start, end, cls = self.session.run(None, feed)
        return start, end, cls


def _SpanHeads(model):
    import torch

    class Heads(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.m(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids, output_hidden_states=True)
            return out.start_logits, out.end_logits, out.hidden_states[-1][:, 0, :]

    return Heads(model)
