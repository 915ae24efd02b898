"""Stage-1 projection heads and losses (MT2KD, Yang et al. 2024), used only in training.

- ASR: Linear(enc -> 2 * teacher_dim) on ReLU(enc): each 25 Hz student frame predicts two stacked
  50 Hz Whisper frames; masked L1.
- AT: per-frame Linear(teacher classes), averaged over frames, BCE against teacher probabilities.
- SV: a Linear from the pooled speaker embedding to the teacher's space; loss 1 - cosine.

A causal student cannot see the future, so student frame t is asked for the teacher frames of
student frame t - shift (a small look-behind), never for frames it has not heard yet.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig


class DistillationHeads(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.teacher_dim = cfg.kd_asr_teacher_dim
        self.shift_frames = cfg.kd_asr_shift_frames
        self.asr = nn.Linear(cfg.d_model, 2 * cfg.kd_asr_teacher_dim)
        self.tag = nn.Linear(cfg.d_model, cfg.kd_tag_teacher_classes)
        self.speaker = nn.Linear(cfg.speaker_embed_dim, cfg.kd_spk_teacher_dim)

    def asr_frames(self, enc: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, 2T, teacher_dim) predictions at the teacher's 50 Hz."""
        b, t, _ = enc.shape
        return self.asr(torch.relu(enc)).reshape(b, 2 * t, self.teacher_dim)

    def tag_logits(self, enc: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D), mask (B, T) -> clip logits (B, classes): mean of per-frame logits."""
        w = mask[..., None].to(enc.dtype)
        return (self.tag(enc) * w).sum(1) / w.sum(1).clamp(min=1.0)

    def asr_loss(self, enc: torch.Tensor, mask: torch.Tensor, teacher: torch.Tensor,
                 teacher_lens: torch.Tensor) -> torch.Tensor:
        """Masked L1 with the look-behind shift. teacher (B, U, teacher_dim) at 50 Hz."""
        pred = self.asr_frames(enc)  # (B, 2T, Dt)
        s = 2 * self.shift_frames  # shift in 50 Hz frames
        n = min(pred.shape[1] - s, teacher.shape[1])
        if n <= 0:
            return pred.sum() * 0.0
        pred, target = pred[:, s : s + n], teacher[:, :n]
        student_ok = mask.repeat_interleave(2, dim=1)[:, s : s + n]
        teacher_ok = torch.arange(n, device=enc.device)[None, :] < teacher_lens[:, None]
        w = (student_ok & teacher_ok)[..., None].to(pred.dtype)
        return ((pred - target).abs() * w).sum() / (w.sum() * self.teacher_dim).clamp(min=1.0)

    def tag_loss(self, enc: torch.Tensor, mask: torch.Tensor, teacher_probs: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(self.tag_logits(enc, mask), teacher_probs)

    def speaker_loss(self, speaker_embedding: torch.Tensor, teacher_embedding: torch.Tensor) -> torch.Tensor:
        pred = self.speaker(speaker_embedding)
        return (1.0 - nn.functional.cosine_similarity(pred, teacher_embedding, dim=-1)).mean()
