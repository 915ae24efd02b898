"""Training-time augmentation that helps CTC learn: SpecAugment on the features, speed perturbation
on the audio. Both are drawn from a generator the trainer owns, so a resumed run redraws them exactly.

- SpecAugment (Park et al. 2019; icefall's defaults scaled to our 80 bins): ``freq_masks`` bands of up
  to ``freq_width`` mel bins and time masks covering up to ``time_share`` of each utterance, set to the
  utterance's mean feature (masking to zero would be a loud artefact in log-mel).
- Speed perturbation (Ko et al. 2015): one factor per batch from ``speeds``, by polyphase resampling;
  pitch and tempo change together, as a faster or slower talker. ASR batches only: for speaker
  verification a resampled voice is a different voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch


@dataclass(frozen=True)
class SpecAugment:
    freq_masks: int = 2
    freq_width: int = 15
    time_masks: int = 4
    time_share: float = 0.1  # of an utterance's frames, at most, per mask
    max_time_width: int = 40  # frames (10 ms each)

    def __call__(self, feats: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """feats (B, T, F) -> a masked copy."""
        b, t, f = feats.shape
        fill = feats.mean(dim=(1, 2), keepdim=True).expand_as(feats)
        keep = torch.ones(b, t, f, dtype=torch.bool, device=feats.device)
        rand = lambda *shape: torch.rand(*shape, generator=generator).to(feats.device)  # noqa: E731
        bins, frames = torch.arange(f, device=feats.device), torch.arange(t, device=feats.device)
        for _ in range(self.freq_masks):
            width = (rand(b) * self.freq_width).long()
            start = (rand(b) * (f - width)).long()
            keep &= ~((bins[None] >= start[:, None]) & (bins[None] < (start + width)[:, None]))[:, None, :]
        max_width = min(self.max_time_width, int(self.time_share * t))
        for _ in range(self.time_masks):
            width = (rand(b) * max_width).long()
            start = (rand(b) * (t - width).clamp(min=1)).long()
            keep &= ~((frames[None] >= start[:, None]) & (frames[None] < (start + width)[:, None]))[:, :, None]
        return torch.where(keep, feats, fill)


def change_speed(audio: torch.Tensor, num_samples: torch.Tensor, factor: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, N) padded audio played ``factor`` times faster -> resampled audio and new lengths."""
    if abs(factor - 1.0) < 1e-6:
        return audio, num_samples
    from scipy.signal import resample_poly

    ratio = Fraction(factor).limit_denominator(100)
    out = resample_poly(audio.numpy(), ratio.denominator, ratio.numerator, axis=1).astype(np.float32)
    lengths = torch.clamp((num_samples.double() / factor).round().long(), max=out.shape[1])
    return torch.from_numpy(out), lengths
