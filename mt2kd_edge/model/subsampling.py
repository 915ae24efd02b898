"""Causal 4x convolutional subsampling: 100 Hz fbank -> 25 Hz encoder frames."""

from __future__ import annotations

import torch
from torch import nn

from ..spec import TensorSpec

KERNEL = 3  # time and frequency kernel of both convs
TIME_CACHE = KERNEL - 1  # input frames each conv must remember between chunks


def _conv_out(n: int) -> int:
    return (n - KERNEL) // 2 + 1


class CausalConvSubsampling(nn.Module):
    """Two stride-2 Conv2d over (time, freq), causal in time.

    Output frame t of a conv sees input frames 2t-2 .. 2t, so the last two input frames are all a
    chunk must hand to the next one. A chunk of fbank frames must be a multiple of 4.
    ``channels`` is small (32) on purpose: at full width this block is half the training cost.
    """

    def __init__(self, num_mel_bins: int, channels: int, d_model: int) -> None:
        super().__init__()
        self.num_mel_bins, self.channels = num_mel_bins, channels
        self.freq1 = _conv_out(num_mel_bins)  # 80 -> 39
        self.freq2 = _conv_out(self.freq1)  # 39 -> 19
        self.conv1 = nn.Conv2d(1, channels, KERNEL, stride=2)
        self.conv2 = nn.Conv2d(channels, channels, KERNEL, stride=2)
        self.out = nn.Linear(channels * self.freq2, d_model)
        self.norm = nn.LayerNorm(d_model)

    def state_specs(self, prefix: str) -> list[TensorSpec]:
        return [
            TensorSpec(f"{prefix}.conv1", (1, TIME_CACHE, self.num_mel_bins), doc="last fbank frames"),
            TensorSpec(f"{prefix}.conv2", (self.channels, TIME_CACHE, self.freq1), doc="last conv1 frames"),
        ]

    def init_state(self, batch: int, device: torch.device | None = None) -> list[torch.Tensor]:
        return [torch.zeros(batch, *s.shape, device=device) for s in self.state_specs("x")]

    def forward(
        self, feats: torch.Tensor, cache1: torch.Tensor, cache2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """feats (B, T, bins), T % 4 == 0 -> (B, T/4, d_model), new cache1, new cache2."""
        x = torch.cat([cache1, feats[:, None]], dim=2)  # (B, 1, 2+T, bins)
        new1 = x[:, :, -TIME_CACHE:]
        h = torch.relu(self.conv1(x))  # (B, C, T/2, 39)
        h = torch.cat([cache2, h], dim=2)
        new2 = h[:, :, -TIME_CACHE:]
        h = torch.relu(self.conv2(h))  # (B, C, T/4, 19)
        b, c, t, f = h.shape
        h = h.transpose(1, 2).reshape(b, t, c * f)
        return self.norm(self.out(h)), new1, new2
