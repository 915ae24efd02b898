"""The causal, chunked encoder: conv subsampling then conformer blocks."""

from __future__ import annotations

import torch
from torch import nn

from ..spec import TensorSpec
from .config import ModelConfig
from .conformer import ConformerBlock
from .subsampling import CausalConvSubsampling


class StreamingEncoder(nn.Module):
    """fbank (B, T, bins) at 100 Hz -> (B, T/4, d_model) at 25 Hz.

    ``forward_step`` consumes one chunk and the flat list of this encoder's states (in the order
    of ``state_specs``); ``forward_full`` runs a whole utterance with a chunk mask and zero
    caches and equals chained steps to float tolerance.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.subsampling = CausalConvSubsampling(cfg.num_mel_bins, cfg.subsampling_channels, cfg.d_model)
        self.layers = nn.ModuleList(ConformerBlock(cfg) for _ in range(cfg.num_layers))

    def state_specs(self) -> list[TensorSpec]:
        specs = self.subsampling.state_specs("subsampling")
        for i, layer in enumerate(self.layers):
            specs += layer.state_specs(f"layer{i}")
        return specs

    def forward_step(self, feats: torch.Tensor, states: list[torch.Tensor]
                     ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x, c1, c2 = self.subsampling(feats, states[0], states[1])
        new_states = [c1, c2]
        for i, layer in enumerate(self.layers):
            key, value, conv = states[2 + 3 * i: 5 + 3 * i]
            x, key, value, conv = layer(x, key, value, conv)
            new_states += [key, value, conv]
        return x, new_states

    def forward_full(self, feats: torch.Tensor, chunk_frames: int | None = None) -> torch.Tensor:
        """feats (B, T, bins) with T a multiple of 4. ``chunk_frames`` (encoder frames) defaults
        to the config's chunk; training may vary it so one model serves several chunk sizes."""
        chunk_frames = chunk_frames or self.cfg.chunk_frames
        zeros = [torch.zeros(feats.shape[0], *s.shape, device=feats.device)
                 for s in self.subsampling.state_specs("x")]
        x, _, _ = self.subsampling(feats, *zeros)
        for layer in self.layers:
            x = layer.forward_full(x, chunk_frames)
        return x
