"""The single-task teacher's network: conv subsampling, a non-causal Transformer encoder, one head per task."""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import EncoderConfig, SingleTaskConfig


class Subsampling(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        n, c, f = int(math.log2(cfg.subsampling)), cfg.conv_channels, cfg.num_mel_bins
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [nn.Conv2d(1 if i == 0 else c, c, 3, stride=2, padding=1), nn.ReLU()]
            f = (f + 1) // 2
        self.conv = nn.Sequential(*layers)
        self.out = nn.Linear(c * f, cfg.d_model)
        self.factor = cfg.subsampling

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, ceil(T / factor), D)
        y = self.conv(x[:, None])  # (B, C, T', F')
        b, c, t, f = y.shape
        return self.out(y.permute(0, 2, 1, 3).reshape(b, t, c * f))


def sinusoid(t: int, d: int, device: torch.device) -> torch.Tensor:
    pos = torch.arange(t, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(t, d, device=device)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class NonCausalEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.subsampling = Subsampling(cfg)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.num_heads, cfg.ff_dim, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, cfg.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """feats (B, T, F) normalised fbank, feat_lens (B,) -> enc (B, T', D), mask (B, T') True = real."""
        x = self.subsampling(feats)
        lens = (feat_lens + self.cfg.subsampling - 1) // self.cfg.subsampling
        mask = torch.arange(x.shape[1], device=x.device)[None] < lens[:, None]
        x = x + sinusoid(x.shape[1], x.shape[2], x.device)
        return self.norm(self.layers(x, src_key_padding_mask=~mask)), mask


class SingleTaskModel(nn.Module):
    def __init__(self, cfg: SingleTaskConfig, num_outputs: int) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.encoder.d_model
        self.encoder = NonCausalEncoder(cfg.encoder)
        if cfg.task == "tag":
            self.cla = nn.Linear(d, num_outputs)  # per-frame class logits
            self.att = nn.Linear(d, num_outputs)  # per-frame, per-class pooling weights
        elif cfg.task == "ctc":
            self.out = nn.Linear(d, num_outputs)
        else:
            self.embed = nn.Linear(2 * d, cfg.embed_dim)
            self.classifier = nn.Linear(cfg.embed_dim, num_outputs)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> tag: clip logits (B, C); ctc: log-probs (B, T', V); speaker: embedding (B, E). Plus mask."""
        enc, mask = self.encoder(feats, feat_lens)
        if self.cfg.task == "tag":
            att = self.att(enc).masked_fill(~mask[..., None], -1e4).softmax(dim=1)
            return (att * self.cla(enc)).sum(1), mask
        if self.cfg.task == "ctc":
            return self.out(enc).log_softmax(-1), mask
        w = mask[..., None].float()
        mean = (enc * w).sum(1) / w.sum(1).clamp(min=1)
        std = (((enc - mean[:, None]) ** 2 * w).sum(1) / w.sum(1).clamp(min=1)).clamp(min=1e-6).sqrt()
        return self.embed(torch.cat([mean, std], -1)), mask


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
