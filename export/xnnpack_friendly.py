"""The model rewritten, with the same numbers, in ops ExecuTorch's XNNPACK partitioner lowers.

Every op the partitioner leaves out runs as a portable kernel (single-threaded, often a copy) and splits
the program into one more delegate call. The session-10 bundle's fp32 program made 36 delegate calls per
320 ms step between 37 LayerNorms (the partitioner takes none), 24 expand_copy (4-D matmul) and 6 index
ops (the position bias); rewritten, it makes 5, and only front-end and head odds and ends stay outside
(``ops_outside_delegates``; tests/test_export.py checks it).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from mt2kd_edge.model import MT2KDModel
from mt2kd_edge.model.attention import ChunkedSelfAttention


class DelegableLayerNorm(nn.Module):
    """nn.LayerNorm over the last axis from mean / sub / mul / rsqrt / add. XNNPACK lowers mean.dim only
    over the inner two axes of a 4-D tensor, hence the (N, 1, D, 1) view."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        if len(norm.normalized_shape) != 1 or not norm.elementwise_affine:
            raise ValueError(f"only affine LayerNorms over the last axis are rewritten, got {norm}")
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps
        self.dim = norm.normalized_shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x4 = x.reshape(-1, 1, self.dim, 1)
        centred = x4 - x4.mean(dim=(2, 3), keepdim=True)
        variance = (centred * centred).mean(dim=(2, 3), keepdim=True)
        normed = (centred * torch.rsqrt(variance + self.eps)).reshape(x.shape)
        return normed * self.weight + (0.0 if self.bias is None else self.bias)


def for_xnnpack(model: MT2KDModel) -> MT2KDModel:
    """An inference copy of ``model`` (the original is untouched): LayerNorms rewritten and each attention
    layer's streaming position bias frozen into a constant. Module names stay, so quantizer filters that
    select by name still apply."""
    model = copy.deepcopy(model).eval()
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.LayerNorm):
                setattr(module, name, DelegableLayerNorm(child))
        if isinstance(module, ChunkedSelfAttention):
            module.freeze_step_bias()
    return model
