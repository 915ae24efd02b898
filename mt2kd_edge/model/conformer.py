"""A causal conformer block (macaron feed-forwards, chunked attention, causal depthwise conv)."""

from __future__ import annotations

import torch
from torch import nn

from ..spec import TensorSpec
from .attention import ChunkedSelfAttention
from .config import ModelConfig


class FeedForward(nn.Sequential):
    def __init__(self, d_model: int, ff_dim: int) -> None:
        super().__init__(nn.LayerNorm(d_model), nn.Linear(d_model, ff_dim), nn.SiLU(), nn.Linear(ff_dim, d_model))


class CausalConvModule(nn.Module):
    """Pointwise + GLU, causal depthwise conv (cache: kernel-1 frames), LayerNorm, SiLU, pointwise.
    LayerNorm instead of BatchNorm: statistics of a 320 ms chunk must not depend on the batch."""

    def __init__(self, d_model: int, kernel: int) -> None:
        super().__init__()
        self.d_model, self.kernel = d_model, kernel
        self.norm_in = nn.LayerNorm(d_model)
        self.pointwise_in = nn.Linear(d_model, 2 * d_model)
        self.depthwise = nn.Conv1d(d_model, d_model, kernel, groups=d_model)
        self.norm = nn.LayerNorm(d_model)
        self.pointwise_out = nn.Linear(d_model, d_model)

    def state_specs(self, prefix: str) -> list[TensorSpec]:
        return [TensorSpec(f"{prefix}.conv", (self.d_model, self.kernel - 1), doc="depthwise conv history")]

    def forward(self, x: torch.Tensor, cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D), cache (B, D, K-1) -> (B, T, D), new cache."""
        h = nn.functional.glu(self.pointwise_in(self.norm_in(x)), dim=-1).transpose(1, 2)  # (B, D, T)
        h = torch.cat([cache, h], dim=2)
        new_cache = h[:, :, -(self.kernel - 1):]
        h = self.depthwise(h).transpose(1, 2)  # (B, T, D)
        return self.pointwise_out(nn.functional.silu(self.norm(h))), new_cache


class ConformerBlock(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.ff1 = FeedForward(d, cfg.ff_dim)
        self.norm_attn = nn.LayerNorm(d)
        self.attn = ChunkedSelfAttention(d, cfg.num_heads, cfg.left_context_frames, cfg.rel_pos_clip_frames,
                                         cfg.chunk_frames)
        self.conv = CausalConvModule(d, cfg.conv_kernel)
        self.ff2 = FeedForward(d, cfg.ff_dim)
        self.norm_out = nn.LayerNorm(d)
        self.drop = nn.Dropout(cfg.dropout)  # on residual branches only

    def state_specs(self, prefix: str) -> list[TensorSpec]:
        return self.attn.state_specs(prefix) + self.conv.state_specs(prefix)

    def _residual_tail(self, x: torch.Tensor, attn_out: torch.Tensor, conv_cache: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        x = x + self.drop(attn_out)
        conv_out, new_conv = self.conv(x, conv_cache)
        x = x + self.drop(conv_out)
        x = x + 0.5 * self.drop(self.ff2(x))
        return self.norm_out(x), new_conv

    def forward(self, x: torch.Tensor, key: torch.Tensor, value: torch.Tensor, conv: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One streaming chunk: x (B, C, D) and this block's three caches -> y and new caches."""
        x = x + 0.5 * self.drop(self.ff1(x))
        attn_out, new_key, new_value = self.attn(self.norm_attn(x), key, value)
        y, new_conv = self._residual_tail(x, attn_out, conv)
        return y, new_key, new_value, new_conv

    def forward_full(self, x: torch.Tensor, chunk_frames: int) -> torch.Tensor:
        x = x + 0.5 * self.drop(self.ff1(x))
        attn_out = self.attn.forward_full(self.norm_attn(x), chunk_frames)
        zero_conv = x.new_zeros(x.shape[0], *self.conv.state_specs("x")[0].shape)
        return self._residual_tail(x, attn_out, zero_conv)[0]
