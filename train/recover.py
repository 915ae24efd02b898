"""Recover a trainable checkpoint from an exported model directory that ships no torch weights.

    python -m train.recover models/default --out build/recovered/student.pt

Why: a bundle made before ``train.bundle --weights`` (session 4's models/default) carries only int8
graphs; its training checkpoint was lost with the machine it was trained on. Stage 2 can still continue
from it (``--set init_from=build/recovered/student.pt``) instead of starting from scratch, where CTC sits on
its blank plateau for over a thousand steps on this corpus.

What comes back:
- every parameter the step graph holds, from ``model.int8.onnx``: float initializers by name; the
  dynamically quantized Linear weights (ONNX Runtime renames them ``onnx::MatMul_N_quantized``) by
  following each MatMul to the Add of its named bias, dequantized (``(q - zero_point) x scale``; per-tensor
  int8, so each weight is off by at most half a step);
- the BPE model, rebuilt from the tokens in ``model.json``: a sentencepiece BPE merges by piece score, and its ids are in
  score order, so the pieces in id order with falling scores encode as the original did (checked: every
  token decodes back, and the pieces equal the bundle's tokens).
The stage-1 distillation heads are not in the graph and start fresh; they are unused by stage 2.
A recipe step (its output is for training, and it rebuilds the tokenizer with ``train.tokenizer``), so it
lives in ``train/``: ``export/`` may not import ``train/``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ONNX_PREFIX = "model."  # the export wrapper's attribute name in front of every parameter


def _initializers(graph) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


def _dequantized(name: str, arrays: dict[str, np.ndarray]) -> np.ndarray:
    base = name[: -len("_quantized")]
    scale, zero = arrays[f"{base}_scale"], arrays[f"{base}_zero_point"]
    return (arrays[name].astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)


def onnx_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Torch parameter name -> array, from an exported step graph (fp32 or dynamically quantized int8)."""
    import onnx

    graph = onnx.load(str(path)).graph
    arrays = _initializers(graph)
    consumers = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    state = {}
    for name, value in arrays.items():
        if not name.startswith(ONNX_PREFIX) or name.endswith(("_scale", "_zero_point")):
            continue
        if name.endswith("_Transposed_quantized"):  # a Gemm's weight, quantized as stored: already W^T
            state[name[len(ONNX_PREFIX): -len("_Transposed_quantized")]] = np.ascontiguousarray(_dequantized(name, arrays).T)
        else:
            state[name[len(ONNX_PREFIX):]] = value
    for node in graph.node:
        if node.op_type not in ("MatMul", "MatMulInteger", "DynamicQuantizeMatMul"):
            continue
        weight = next((n for n in node.input[1:2] if n in arrays and not n.startswith(ONNX_PREFIX)), None)
        if weight is None:
            continue
        bias = _bias_after(node, consumers, arrays)
        if bias is None:
            raise ValueError(f"{path}: cannot tell which Linear the weight {weight} belongs to (no named bias after it)")
        matrix = _dequantized(weight, arrays) if weight.endswith("_quantized") else arrays[weight]
        state[bias[len(ONNX_PREFIX): -len(".bias")] + ".weight"] = np.ascontiguousarray(matrix.T)  # ONNX: x @ W^T
    return state


def _bias_after(node, consumers, arrays, depth: int = 6) -> str | None:
    """The named bias added to this MatMul's output within a few nodes (Cast/Mul of the int8 path between)."""
    frontier = [node]
    for _ in range(depth):
        nxt = []
        for n in frontier:
            for out in n.output:
                for c in consumers[out]:
                    if c.op_type == "Add":
                        named = [i for i in c.input if i in arrays and i.startswith(ONNX_PREFIX) and i.endswith(".bias")]
                        if named:
                            return named[0]
                    nxt.append(c)
        frontier = nxt
    return None


def rebuild_bpe(tokens: list[str], out: Path) -> None:
    """A sentencepiece BPE model whose pieces are ``tokens`` (blank excluded) in id order, with the settings
    train.tokenizer.train_bpe trains with (unk id 0, no bos/eos/pad; text is lower-cased before encoding)."""
    from sentencepiece import sentencepiece_model_pb2 as spm_pb2

    proto = spm_pb2.ModelProto()
    spec = proto.trainer_spec
    spec.model_type, spec.vocab_size = spm_pb2.TrainerSpec.BPE, len(tokens) - 1
    spec.unk_id, spec.bos_id, spec.eos_id, spec.pad_id = 0, -1, -1, -1
    norm = proto.normalizer_spec
    norm.name, norm.add_dummy_prefix, norm.remove_extra_whitespaces, norm.escape_whitespaces = "identity", True, True, True
    for i, piece in enumerate(tokens[1:]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, -float(i)
        entry.type = entry.UNKNOWN if piece == "<unk>" else entry.NORMAL
    out.write_bytes(proto.SerializeToString())


def recover(model_dir: Path, out: Path) -> dict:
    import torch

    from mt2kd_edge.model import ModelConfig, MT2KDModel, save_checkpoint
    from mt2kd_edge.model_layout import BPE
    from .tokenizer import Tokenizer

    info = json.loads((model_dir / "model.json").read_text())
    tokens = list(info["tokens"])
    if tokens[:2] != ["<blk>", "<unk>"]:
        raise ValueError(f"{model_dir}: its tokens do not come from train.tokenizer.train_bpe (blank, then <unk>): "
                         "no BPE model can be rebuilt for them")
    model = MT2KDModel(ModelConfig.from_dict(info["model_config"]))
    own = model.state_dict()
    found = onnx_state_dict(model_dir / "model.int8.onnx")
    loaded, mismatched = {}, []
    for name, value in found.items():
        if name in own and tuple(own[name].shape) == value.shape:
            loaded[name] = torch.from_numpy(np.array(value, dtype=np.float32))
        elif name in own:
            mismatched.append(f"{name} {value.shape} vs {tuple(own[name].shape)}")
    if mismatched:
        raise ValueError(f"{model_dir}: shapes differ from the config's model: {mismatched[:5]}")
    missing = sorted(k for k in own if k not in loaded and not k.startswith("kd_"))
    missing = [k for k in missing if own[k].is_floating_point() and k.split(".")[-1] in ("weight", "bias")]
    model.load_state_dict({**own, **loaded})
    out.parent.mkdir(parents=True, exist_ok=True)
    bpe = out.parent / BPE  # beside the checkpoint: where a run started from it looks (train.loop.make_tasks)
    rebuild_bpe(tokens, bpe)
    rebuilt = Tokenizer(bpe).tokens()
    if rebuilt != tokens:
        raise ValueError(f"the rebuilt BPE model's pieces differ from {model_dir / 'model.json'}'s tokens")
    labels = [(lab["mid"], lab["name"]) for lab in info["labels"]] if info.get("labels") else None
    save_checkpoint(out, model, {"recovered_from": str(model_dir)}, tokens=tokens, labels=labels)
    return {"parameters_recovered": len(loaded), "not_in_graph": missing, "checkpoint": str(out), "bpe": str(bpe)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.recover", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", type=Path, help="an exported model directory with model.int8.onnx and model.json")
    p.add_argument("--out", type=Path, required=True, help="the checkpoint to write (bpe.model goes beside it)")
    args = p.parse_args(argv)
    try:
        report = recover(args.model_dir, args.out)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
