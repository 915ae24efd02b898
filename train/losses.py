"""Stage-2 task losses. Each applies only to its own labelled data (the batch's task)."""

from __future__ import annotations

import math

import torch
from torch import nn

from mt2kd_edge.model import ModelOutput


def ctc_loss(out: ModelOutput, tokens: torch.Tensor, token_lens: torch.Tensor) -> torch.Tensor:
    """Mean per-token CTC loss. tokens (B, L) padded, token_lens (B,)."""
    frames = out.frame_mask.sum(1)
    loss = nn.functional.ctc_loss(out.ctc_log_probs.transpose(0, 1), tokens, frames, token_lens, blank=0,
                                  reduction="sum", zero_infinity=True)
    return loss / token_lens.sum().clamp(min=1)


def clip_logits(out: ModelOutput) -> torch.Tensor:
    """Frame-averaged tagging logits over real frames: (B, C)."""
    w = out.frame_mask[..., None].to(out.tag_logits.dtype)
    return (out.tag_logits * w).sum(1) / w.sum(1).clamp(min=1.0)


def tagging_loss(out: ModelOutput, multi_hot: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(clip_logits(out), multi_hot)


class AAMSoftmax(nn.Module):
    """Additive angular margin softmax (ArcFace) over the training speakers; training only."""

    def __init__(self, embed_dim: int, num_speakers: int, margin: float = 0.2, scale: float = 30.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_speakers, embed_dim) * 0.01)
        self.margin, self.scale = margin, scale

    def forward(self, embedding: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        cos = nn.functional.linear(nn.functional.normalize(embedding), nn.functional.normalize(self.weight))
        cos = cos.clamp(-1 + 1e-7, 1 - 1e-7)
        target = torch.cos(torch.acos(cos.gather(1, speaker[:, None])) + self.margin)
        # past pi - margin the margin would wrap around; fall back to a linear penalty there
        target = torch.where(cos.gather(1, speaker[:, None]) > math.cos(math.pi - self.margin), target,
                             cos.gather(1, speaker[:, None]) - self.margin * math.sin(self.margin))
        logits = cos.scatter(1, speaker[:, None], target) * self.scale
        return nn.functional.cross_entropy(logits, speaker)
