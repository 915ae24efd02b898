"""MT2KDModel: front-end, shared causal encoder, and the three task heads.

Two ways to run it, which agree to float tolerance (a test holds them to it):
- ``forward(samples)``: a whole utterance at once (training, evaluation);
- ``step(chunk, states) -> (outputs, states)``: one fixed-size chunk with explicit state (export, runtime).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..spec import StreamingSpec, TensorSpec
from .config import ENCODER_SHIFT_MS, SAMPLE_RATE, ModelConfig
from .distillation import DistillationHeads
from .encoder import StreamingEncoder
from .frontend import SAMPLE_CACHE, KaldiFbank
from .heads import CTCHead, SpeakerHead, TaggingHead

SAMPLES_PER_FRAME = SAMPLE_RATE * ENCODER_SHIFT_MS // 1000  # 640 samples per encoder frame


@dataclass
class ModelOutput:
    encoder: torch.Tensor  # (B, T, D) encoder frames at 25 Hz
    frame_mask: torch.Tensor  # (B, T) bool: frame holds real audio (not end padding)
    ctc_log_probs: torch.Tensor  # (B, T, V)
    tag_logits: torch.Tensor  # (B, T, C) per-frame; clip logits are their masked mean
    speaker_embedding: torch.Tensor  # (B, E) over all real frames


def frames_for_samples(num_samples: torch.Tensor | int) -> torch.Tensor | int:
    """Encoder frames that contain real audio for a stream of ``num_samples`` samples."""
    return (num_samples + SAMPLES_PER_FRAME - 1) // SAMPLES_PER_FRAME


class MT2KDModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.frontend = KaldiFbank(config.num_mel_bins)
        self.encoder = StreamingEncoder(config)
        self.ctc = CTCHead(config.d_model, config.vocab_size)
        self.tagger = TaggingHead(config.d_model, config.num_tag_classes)
        self.speaker = SpeakerHead(config.d_model, config.speaker_embed_dim)
        self.distill = DistillationHeads(config)  # stage 1 only; not part of the exported step

    # ---------------- the streaming contract ----------------
    def streaming_spec(self) -> StreamingSpec:
        c = self.config
        states = [
            TensorSpec("frontend.samples", (SAMPLE_CACHE,), doc="last samples of the previous chunk"),
            TensorSpec("frontend.started", (1,), doc="0 before the first chunk, then 1"),
            *self.encoder.state_specs(),
            *self.speaker.state_specs("speaker"),
        ]
        outputs = [
            TensorSpec("ctc_log_probs", (c.chunk_frames, c.vocab_size), doc="CTC log-probs, blank=0"),
            TensorSpec("tag_probs", (c.chunk_frames, c.num_tag_classes), doc="per-frame event probabilities"),
            TensorSpec("speaker_embedding", (c.speaker_embed_dim,), doc="embedding of the segment so far"),
        ]
        return StreamingSpec(
            sample_rate=SAMPLE_RATE, chunk_samples=c.chunk_samples, frames_per_chunk=c.chunk_frames,
            frame_shift_ms=ENCODER_SHIFT_MS,
            input=TensorSpec("samples", (c.chunk_samples,), doc="float32 samples in [-1, 1]"),
            outputs=tuple(outputs), states=tuple(states),
        )

    def init_state(self, batch: int = 1) -> list[torch.Tensor]:
        device = self.ctc.proj.weight.device
        return [torch.zeros(s.batched_shape(batch), device=device) for s in self.streaming_spec().states]

    def step(self, samples: torch.Tensor, states: Sequence[torch.Tensor]
             ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """samples (B, chunk_samples) + states in spec order
        -> ([ctc_log_probs, tag_probs, speaker_embedding], new states in spec order): the signature of every
        stepper (mt2kd_edge.stepping) and of a Python backend's step. The exported graph returns the two
        lists flattened (export.step_module.StreamingStep)."""
        feats, cache, started = self.frontend.stream_step(samples, states[0], states[1])
        enc, enc_states = self.encoder.forward_step(feats, list(states[2:-1]))
        embedding, stats = self.speaker.update(states[-1], enc)
        return [self.ctc(enc), torch.sigmoid(self.tagger(enc)), embedding], [cache, started, *enc_states, stats]

    # ---------------- whole utterances ----------------
    def forward(self, samples: torch.Tensor, num_samples: torch.Tensor | None = None,
                chunk_frames: int | None = None, feature_augment=None) -> ModelOutput:
        """samples (B, N) float in [-1, 1]; num_samples (B,) real lengths (default: all N).

        The audio is zero-padded to whole chunks, exactly as a stream's last chunk is.
        ``feature_augment`` (training only, e.g. SpecAugment) maps the (B, T, 80) features.
        """
        b, n = samples.shape
        if num_samples is None:
            num_samples = torch.full((b,), n, dtype=torch.long, device=samples.device)
        # Under a bf16 autocast (training on CPUs with AMX, or GPUs) only the encoder runs in bf16: the
        # front-end (log of small energies), the heads and the speaker's running sums stay float32.
        with torch.autocast(samples.device.type, enabled=False):
            feats = self.frontend.streaming_equivalent(samples.float(), self.config.chunk_samples)
            if feature_augment is not None:
                feats = feature_augment(feats)
        enc = self.encoder.forward_full(feats, chunk_frames)
        with torch.autocast(samples.device.type, enabled=False):
            enc = enc.float()
            t = torch.arange(enc.shape[1], device=enc.device)
            mask = t[None, :] < frames_for_samples(num_samples)[:, None]
            stats = self.speaker.frame_stats(enc, mask)
            return ModelOutput(enc, mask, self.ctc(enc), self.tagger(enc), self.speaker.embedding(stats))

    def num_parameters(self, include_distillation: bool = False) -> int:
        return sum(p.numel() for name, p in self.named_parameters()
                   if include_distillation or not name.startswith("distill."))
