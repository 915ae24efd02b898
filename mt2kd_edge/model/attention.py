"""Chunked causal self-attention with a fixed left context held in a key/value cache."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..spec import TensorSpec


class ChunkedSelfAttention(nn.Module):
    """Multi-head attention where a frame sees its own chunk and ``left_frames`` frames before it.

    Streaming: the cache holds the keys and values of the last ``left_frames`` frames; it starts
    as zeros, so the first chunks attend to zero keys/values (a learned "nothing yet" sink). The
    full forward prepends the same zeros and masks by chunk, so both paths compute the same sums.
    Position enters as a learned per-head bias on the frame distance, clipped to +-``clip``.
    """

    def __init__(self, d_model: int, num_heads: int, left_frames: int, clip: int, chunk_frames: int) -> None:
        super().__init__()
        self.d_model, self.num_heads, self.left_frames, self.clip = d_model, num_heads, left_frames, clip
        self.head_dim = d_model // num_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.rel_bias = nn.Parameter(torch.zeros(num_heads, 2 * clip + 1))
        # The streaming step's distances are fixed by the shapes, so their bias-table indices are a
        # constant buffer: computed in-graph they would be int64 maths that int8 quantizers mangle.
        distance = (torch.arange(chunk_frames)[:, None] + left_frames) - torch.arange(left_frames + chunk_frames)
        self.register_buffer("step_bias_index", self._bias_index(distance), persistent=False)
        self.register_buffer("frozen_step_bias", None, persistent=False)  # see freeze_step_bias

    def state_specs(self, prefix: str) -> list[TensorSpec]:
        shape = (self.left_frames, self.d_model)
        return [TensorSpec(f"{prefix}.key", shape, doc="keys of the left context"),
                TensorSpec(f"{prefix}.value", shape, doc="values of the left context")]

    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, H, T, Dh)
        b, t, _ = x.shape
        return x.reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)

    def _bias_index(self, distance: torch.Tensor) -> torch.Tensor:
        """query-minus-key frame distances (T, S) -> indices into rel_bias's last axis."""
        return distance.clamp(-self.clip, self.clip) + self.clip

    def freeze_step_bias(self) -> None:
        """For inference graphs only: the streaming step's position bias as a constant. Looked up in-graph
        it is an index op over a parameter, which ExecuTorch runs outside XNNPACK (a copy and a delegate
        split per layer). Training must not call it: the frozen table does not follow rel_bias."""
        self.frozen_step_bias = self.rel_bias[:, self.step_bias_index].detach().clone()

    def _heads(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B*H, T, Dh)
        b, t, _ = x.shape
        return self._split(x).reshape(b * self.num_heads, t, self.head_dim)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor,
                mask: torch.Tensor | None) -> torch.Tensor:
        """q (B, T, D), k/v (B, S, D), bias (H, T, S), mask (T, S) allowed.
        3-D bmm, not 4-D matmul: XNNPACK lowers bmm as it is, while matmul decomposes with expand_copy
        ops that run outside the delegate (one copy each, four per layer)."""
        b, t, _ = q.shape
        s, h = k.shape[1], self.num_heads
        scores = torch.bmm(self._heads(q), self._heads(k).transpose(1, 2)).reshape(b, h, t, s)
        scores = scores / math.sqrt(self.head_dim) + bias
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        ctx = torch.bmm(torch.softmax(scores, dim=-1).reshape(b * h, t, s), self._heads(v))  # (B*H, T, Dh)
        return self.out(ctx.reshape(b, h, t, self.head_dim).transpose(1, 2).reshape(b, t, self.d_model))

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Slices, not chunk(): XNNPACK lowers slice_copy, while chunk becomes a split op outside it."""
        qkv, d = self.qkv(x), self.d_model
        return qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]

    def forward(self, x: torch.Tensor, key_cache: torch.Tensor, value_cache: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One streaming chunk: x (B, C, D), caches (B, L, D) -> y, new caches."""
        q, k, v = self._qkv(x)
        k = torch.cat([key_cache, k], dim=1)
        v = torch.cat([value_cache, v], dim=1)
        if x.shape[1] != self.step_bias_index.shape[0]:
            raise ValueError(f"a streaming step takes {self.step_bias_index.shape[0]} frames, got {x.shape[1]}")
        bias = self.rel_bias[:, self.step_bias_index] if self.frozen_step_bias is None else self.frozen_step_bias
        y = self._attend(q, k, v, bias, None)
        L = self.left_frames
        return y, k[:, -L:], v[:, -L:]

    def forward_full(self, x: torch.Tensor, chunk_frames: int) -> torch.Tensor:
        """The whole sequence at once with a chunk mask; equals chained ``forward`` calls."""
        b, t, _ = x.shape
        L = self.left_frames
        q, k, v = self._qkv(x)
        zeros = x.new_zeros(b, L, self.d_model)
        k, v = torch.cat([zeros, k], dim=1), torch.cat([zeros, v], dim=1)
        query = torch.arange(t, device=x.device)[:, None]
        key = torch.arange(L + t, device=x.device)[None, :] - L  # frame index of each key; zeros sit at -L..-1
        chunk_start = (query // chunk_frames) * chunk_frames
        mask = (key < chunk_start + chunk_frames) & (key >= chunk_start - L)
        return self._attend(q, k, v, self.rel_bias[:, self._bias_index(query - key)], mask)
