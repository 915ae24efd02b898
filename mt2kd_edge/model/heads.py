"""Task heads that read the shared encoder output: CTC, per-frame tagging, speaker embedding."""

from __future__ import annotations

import torch
from torch import nn

from ..spec import TensorSpec

VARIANCE_FLOOR = 1e-5  # keeps sqrt() finite for constant features (e.g. a single frame)


class CTCHead(nn.Module):
    """Per-frame log-probabilities over the BPE vocabulary; index 0 is the CTC blank."""

    def __init__(self, d_model: int, vocab_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d_model, vocab_size)

    def forward(self, enc: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, V)
        return torch.log_softmax(self.proj(enc), dim=-1)


class TaggingHead(nn.Module):
    """Per-frame sound-event logits; clip scores average them over frames (as in the paper)."""

    def __init__(self, d_model: int, num_classes: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d_model, num_classes)

    def forward(self, enc: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, C)
        return self.proj(enc)


class SpeakerHead(nn.Module):
    """Statistics pooling over running sums, then a linear embedding.

    The pooled statistics are three running sums (frame count, sum, sum of squares) of a
    per-frame projection. Sums accumulate across chunks, so the embedding of "the audio so far"
    is ready after every chunk, and a runtime can reset them at an endpoint.
    """

    def __init__(self, d_model: int, embed_dim: int) -> None:
        super().__init__()
        self.d_model = d_model
        self.frame_proj = nn.Linear(d_model, d_model)
        self.embed = nn.Linear(2 * d_model, embed_dim)

    @property
    def stats_dim(self) -> int:
        return 1 + 2 * self.d_model  # [count, sum(h), sum(h^2)]

    def state_specs(self, prefix: str) -> list[TensorSpec]:
        return [TensorSpec(f"{prefix}.stats", (self.stats_dim,), reset="segment",
                           doc="[frames, sum h, sum h^2] since the segment start")]

    def frame_stats(self, enc: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """enc (B, T, D), mask (B, T) bool of real frames -> summed stats (B, 1 + 2D)."""
        h = torch.relu(self.frame_proj(enc))
        w = torch.ones_like(h[..., :1]) if mask is None else mask[..., None].to(h.dtype)
        h = h * w
        return torch.cat([w.sum(1), h.sum(1), (h * h).sum(1)], dim=-1)

    def update(self, stats: torch.Tensor, enc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One streaming chunk: running stats (B, 1 + 2D) and enc (B, C, D) -> (embedding, new stats).
        Kept inside this module so that exporters can leave the whole sum path in float32."""
        stats = stats + self.frame_stats(enc)
        return self.embedding(stats), stats

    def embedding(self, stats: torch.Tensor) -> torch.Tensor:
        """stats (B, 1 + 2D) -> embedding (B, E). Zero frames give the embedding of zeros."""
        count = stats[:, :1].clamp(min=1.0)
        mean = stats[:, 1 : 1 + self.d_model] / count
        var = stats[:, 1 + self.d_model :] / count - mean * mean
        std = torch.sqrt(var.clamp(min=VARIANCE_FLOOR))
        return self.embed(torch.cat([mean, std], dim=-1))
