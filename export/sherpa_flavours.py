"""sherpa-onnx-compatible flavours of the three heads, runnable by an unmodified sherpa-onnx 2.0.1.

All three take Kaldi fbank features (sherpa computes them, with exactly our front-end settings)
instead of samples, and put the model's own stream timeline back: our frame m is Kaldi frame
m - 1, and frame 0 repeats Kaldi frame 0 (see KaldiFbank). A one-frame feature cache does that
in the streaming ASR graph; the whole-clip graphs prepend the frame.

- ASR: the ``zipformer2_ctc`` online format. sherpa sizes its state tensors from metadata and
  treats them as opaque, so each layer's caches go into a zipformer layer's six slots (key, value,
  and the depthwise-conv history split over conv1/conv2) and everything else (subsampling caches,
  the feature cache and the first-chunk flag) is packed into ``embed_states``.
- Speaker: the wespeaker embedding format: fbank (1, T, 80) -> (1, E).
- Tagging: the zipformer audio-tagging format: (x, x_lens) -> clip probabilities (N, C).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from torch import nn

from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.model import MT2KDModel
from mt2kd_edge.spec import SAMPLE_RATE

from .onnx_native import OPSET, dynamic_int8

EMBED_STATES_SHAPE = (128, 3, 19)  # fixed by sherpa-onnx for zipformer2 (per stream)
EMBED_STATES_SIZE = 128 * 3 * 19


@dataclass(frozen=True)
class SherpaLayout:
    """How our per-stream state maps onto sherpa's zipformer2 slots."""

    num_layers: int
    d_model: int
    num_heads: int
    left_frames: int
    conv_history: int  # our depthwise history: kernel - 1 frames
    sherpa_kernel: int  # the cnn_module_kernels value we declare: each conv slot holds kernel // 2
    packed_sizes: tuple[int, ...]  # subsampling conv1, conv2, feature cache, started flag

    @classmethod
    def of(cls, model: MT2KDModel) -> "SherpaLayout":
        c = model.config
        sub = model.encoder.subsampling.state_specs("x")
        sizes = (sub[0].num_elements, sub[1].num_elements, c.num_mel_bins, 1)
        if sum(sizes) > EMBED_STATES_SIZE:
            raise ValueError(f"state of {sum(sizes)} floats does not fit sherpa's embed_states ({EMBED_STATES_SIZE})")
        if c.d_model * 3 % 4:
            raise ValueError("sherpa sizes its nonlin slot as 3*d_model/4: d_model must be a multiple of 4")
        # each of the two conv slots holds kernel // 2 frames; declare the smallest kernel that fits
        kernel = c.conv_kernel if c.conv_kernel % 2 else c.conv_kernel + 1
        return cls(c.num_layers, c.d_model, c.num_heads, c.left_context_frames, c.conv_kernel - 1, kernel, sizes)

    @property
    def conv_slot(self) -> int:
        return self.sherpa_kernel // 2

    def metadata(self, model: MT2KDModel) -> dict[str, str]:
        c = model.config
        head_dim = c.d_model // c.num_heads
        return {
            "model_type": "zipformer2", "model_author": "mt2kd-edge", "comment": "mt2kd-edge streaming CTC head",
            "encoder_dims": str(c.d_model), "query_head_dims": str(head_dim), "value_head_dims": str(head_dim),
            "num_heads": str(c.num_heads), "num_encoder_layers": str(c.num_layers),
            "cnn_module_kernels": str(self.sherpa_kernel), "left_context_len": str(c.left_context_frames),
            "T": str(c.chunk_fbank_frames), "decode_chunk_len": str(c.chunk_fbank_frames),
        }


class SherpaStreamingCtc(nn.Module):
    """forward(x, *sherpa_states) -> (log_probs, *new sherpa_states); x (N, T, 80) Kaldi fbank."""

    def __init__(self, model: MT2KDModel) -> None:
        super().__init__()
        self.model = model.eval()
        self.layout = SherpaLayout.of(model)

    def _unpack(self, embed_states: torch.Tensor) -> list[torch.Tensor]:
        n = embed_states.shape[0]
        flat = embed_states.reshape(n, EMBED_STATES_SIZE)
        sub = self.model.encoder.subsampling.state_specs("x")
        shapes = [sub[0].shape, sub[1].shape, (self.model.config.num_mel_bins,), (1,)]
        out, start = [], 0
        for size, shape in zip(self.layout.packed_sizes, shapes):
            out.append(flat[:, start:start + size].reshape(n, *shape))
            start += size
        return out

    def _pack(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        n = tensors[0].shape[0]
        flat = torch.cat([t.reshape(n, -1) for t in tensors], dim=1)
        flat = nn.functional.pad(flat, (0, EMBED_STATES_SIZE - flat.shape[1]))
        return flat.reshape(n, *EMBED_STATES_SHAPE)

    def forward(self, x: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lay = self.layout
        sub1, sub2, feat_cache, started = self._unpack(states[-2])
        # our frame timeline: [previous last frame | this window's first T-1 frames]; at the very
        # start the "previous" frame is a copy of frame 0
        prev = feat_cache * started + x[:, 0] * (1.0 - started)
        feats = torch.cat([prev[:, None], x[:, :-1]], dim=1)
        enc_states = [sub1, sub2]
        for i in range(lay.num_layers):
            key, _nonlin, val1, _val2, conv1, conv2 = states[6 * i:6 * i + 6]
            conv = torch.cat([conv1, conv2], dim=2)[:, :, :lay.conv_history]
            enc_states += [key.transpose(0, 1), val1.transpose(0, 1), conv]
        enc, new = self.model.encoder.forward_step(feats, enc_states)
        outputs = [self.model.ctc(enc)]
        for i in range(lay.num_layers):
            key, value, conv = new[2 + 3 * i:5 + 3 * i]
            conv = nn.functional.pad(conv, (0, 2 * lay.conv_slot - lay.conv_history))
            outputs += [key.transpose(0, 1), states[6 * i + 1], value.transpose(0, 1), states[6 * i + 3],
                        conv[:, :, :lay.conv_slot], conv[:, :, lay.conv_slot:]]
        outputs.append(self._pack([new[0], new[1], x[:, -1], torch.ones_like(started)]))
        outputs.append(states[-1] + x.shape[1])  # processed_lens: sherpa's frame counter
        return tuple(outputs)

    def example_states(self, batch: int = 1) -> list[torch.Tensor]:
        lay = self.layout
        states = []
        for _ in range(lay.num_layers):
            states += [torch.zeros(lay.left_frames, batch, lay.d_model),
                       torch.zeros(1, batch, lay.left_frames, 3 * lay.d_model // 4),
                       torch.zeros(lay.left_frames, batch, lay.d_model),
                       torch.zeros(lay.left_frames, batch, lay.d_model),
                       torch.zeros(batch, lay.d_model, lay.conv_slot),
                       torch.zeros(batch, lay.d_model, lay.conv_slot)]
        return states + [torch.zeros(batch, *EMBED_STATES_SHAPE), torch.zeros(batch, dtype=torch.long)]


def _timeline(x: torch.Tensor) -> torch.Tensor:
    """Kaldi frames (N, T, 80) -> our frame timeline (N, T + 1, 80): frame 0 repeated."""
    return torch.cat([x[:, :1], x], dim=1)


def _valid_encoder_frames(num_fbank_frames: torch.Tensor) -> torch.Tensor:
    return (num_fbank_frames + 1 + 3) // 4  # +1 for the repeated first frame; ceil(/4)


class SherpaSpeaker(nn.Module):
    """forward(x (1, T, 80)) -> (1, E) speaker embedding over the whole clip."""

    def __init__(self, model: MT2KDModel) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        enc = self.model.encoder.forward_full(_timeline(x))
        return self.model.speaker.embedding(self.model.speaker.frame_stats(enc))


class SherpaTagger(nn.Module):
    """forward(x (N, T, 80), x_lens (N,)) -> (N, C) clip probabilities (frame-averaged logits)."""

    def __init__(self, model: MT2KDModel) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, x: torch.Tensor, x_lens: torch.Tensor) -> torch.Tensor:
        enc = self.model.encoder.forward_full(_timeline(x))
        frames = torch.arange(enc.shape[1], device=x.device)[None, :]
        mask = (frames < _valid_encoder_frames(x_lens)[:, None]).to(enc.dtype)[..., None]
        logits = (self.model.tagger(enc) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.sigmoid(logits)


def _export(module: nn.Module, args: tuple, path: Path, input_names: list[str], output_names: list[str],
            dynamic_axes: dict, metadata: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "m.onnx"
        torch.onnx.export(module, args, str(raw), input_names=input_names, output_names=output_names,
                          opset_version=OPSET, dynamo=False, dynamic_axes=dynamic_axes)
        proto = onnx.load(str(raw))
    del proto.metadata_props[:]
    for k, v in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, str(v)
    with atomic_write(path) as f:
        f.write(proto.SerializeToString())


def export_streaming_ctc(model: MT2KDModel, path: Path) -> None:
    wrapper = SherpaStreamingCtc(model)
    states = wrapper.example_states()
    x = torch.randn(1, model.config.chunk_fbank_frames, model.config.num_mel_bins)
    names = []
    for i in range(model.config.num_layers):
        names += [f"cached_key_{i}", f"cached_nonlin_attn_{i}", f"cached_val1_{i}", f"cached_val2_{i}",
                  f"cached_conv1_{i}", f"cached_conv2_{i}"]
    names += ["embed_states", "processed_lens"]
    dyn = {"x": {0: "N"}, "log_probs": {0: "N"}}
    for i, name in enumerate(names):
        axis = 1 if (i < 6 * model.config.num_layers and i % 6 < 4) else 0
        dyn[name] = {axis: "N"}
        dyn[f"new_{name}"] = {axis: "N"}
    _export(wrapper, (x, *states), path, ["x", *names], ["log_probs", *[f"new_{n}" for n in names]],
            dyn, wrapper.layout.metadata(model))


def quantize_streaming_ctc(fp32_path: Path, path: Path) -> None:
    """The streaming CTC flavour in dynamic int8 as ours is (onnx_native.dynamic_int8), every MatMul
    quantized (the flavour takes fbank features, so it has no DFT front-end to keep float). sherpa-onnx
    reads its metadata, which is copied over unchanged."""
    proto = dynamic_int8(fp32_path)
    source = onnx.load(str(fp32_path), load_external_data=False)
    del proto.metadata_props[:]
    proto.metadata_props.extend(source.metadata_props)
    with atomic_write(path) as f:
        f.write(proto.SerializeToString())


def export_speaker(model: MT2KDModel, path: Path, language: str = "English") -> None:
    x = torch.randn(1, 150, model.config.num_mel_bins)
    meta = {"framework": "wespeaker", "output_dim": model.config.speaker_embed_dim, "sample_rate": SAMPLE_RATE,
            "normalize_samples": 1, "language": language, "comment": "mt2kd-edge speaker head"}
    _export(SherpaSpeaker(model), (x,), path, ["feats"], ["embs"], {"feats": {1: "T"}}, meta)


def export_tagger(model: MT2KDModel, path: Path) -> None:
    x = torch.randn(2, 150, model.config.num_mel_bins)
    x_lens = torch.tensor([150, 120], dtype=torch.long)
    meta = {"model_type": "zipformer", "comment": "mt2kd-edge tagging head"}
    _export(SherpaTagger(model), (x, x_lens), path, ["x", "x_lens"], ["probs"],
            {"x": {0: "N", 1: "T"}, "x_lens": {0: "N"}, "probs": {0: "N"}}, meta)
