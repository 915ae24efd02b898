"""Kaldi log-mel fbank as a torch module that runs inside exported graphs and streams.

It equals kaldi-native-fbank with the lhotse / icefall / sherpa-onnx settings
(see ``kaldi_fbank_options`` in tests): 16 kHz, 25 ms povey window, 10 ms shift, DC removal,
pre-emphasis 0.97, 80 mel bins over 20-7600 Hz, ``snip_edges=False``, no dither, natural log
floored at float32 epsilon, samples in [-1, 1].

Why a matrix and not ``torch.fft``: DC removal, pre-emphasis, the window and the DFT are all
linear in the frame, so they fold into one (400 x 512) matrix computed once in float64. That
exports to ONNX and ExecuTorch as a plain matmul (XNNPACK runs it fast), and needs no FFT op.

Training may take a faster road to the same numbers (``fft = True``): the same DC removal,
pre-emphasis and window, then ``torch.fft.rfft``; equal to the matmul to float tolerance (a test
holds it), about 4x cheaper per frame. Exported graphs never set it: they keep the plain matmul.

Framing without ``unfold``: a 400-sample window with a 160-sample shift spans three 160-sample
blocks (the last one half used), so a frame is cat(b[j], b[j+1], b[j+2][:80]): reshapes and
slices that every exporter handles.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .config import SAMPLE_RATE

FRAME_LENGTH = 400  # samples in a 25 ms window
FRAME_SHIFT = 160  # samples in a 10 ms shift
FFT_SIZE = 512  # window rounded up to a power of two, as Kaldi does
NUM_FFT_BINS = FFT_SIZE // 2  # Kaldi's mel banks use bins 0..255 and ignore Nyquist
LOW_HZ, HIGH_HZ = 20.0, SAMPLE_RATE / 2 - 400.0  # high_freq=-400 means Nyquist - 400 Hz
PREEMPH = 0.97
LOG_FLOOR = float(np.finfo(np.float32).eps)  # Kaldi floors mel energies at FLT_EPSILON
# snip_edges=False centres frame i on sample 160*i + 80, so it starts 120 samples before 160*i
# and the samples before the stream start are reflected: s < 0 reads sample -s-1.
LEFT_REFLECT = FRAME_LENGTH // 2 - FRAME_SHIFT // 2  # 120
# A streaming step needs the 280 samples before its chunk: the start of the first window that
# ends inside the chunk. (That window is the frame before the chunk's first "own" frame.)
SAMPLE_CACHE = FRAME_LENGTH - LEFT_REFLECT  # 280
TAIL = FRAME_LENGTH - 2 * FRAME_SHIFT  # 80: samples of a frame past its first two blocks


def _frame_matrix() -> np.ndarray:
    """(400, 2 * 256): frame -> [Re | Im] of the DFT after DC removal, pre-emphasis and the
    povey window."""
    i, k = np.arange(FRAME_LENGTH), np.arange(NUM_FFT_BINS)
    angle = 2 * math.pi * np.outer(i, k) / FFT_SIZE
    dft = np.concatenate([np.cos(angle), -np.sin(angle)], axis=1)  # (400, 512)
    # column-vector chain: window(pre(dc(x))); as a row-vector matmul: x @ (W P D)^T
    return _window_matrix() @ dft


def _window_matrix() -> np.ndarray:
    """(400, 400): frame -> window(pre-emphasis(DC removal(frame))), the linear part before the DFT."""
    n = FRAME_LENGTH
    eye = np.eye(n)
    dc = eye - np.full((n, n), 1.0 / n)
    pre = eye - PREEMPH * np.eye(n, k=-1)
    pre[0, 0] = 1.0 - PREEMPH
    i = np.arange(n)
    povey = (0.5 - 0.5 * np.cos(2 * math.pi * i / (n - 1))) ** 0.85
    return (np.diag(povey) @ pre @ dc).T


def _mel_matrix(num_bins: int) -> np.ndarray:
    """(256, num_bins) triangular Kaldi mel filters (mel = 1127 ln(1 + f/700))."""

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f) / 700.0)

    lo, hi = mel(LOW_HZ), mel(HIGH_HZ)
    delta = (hi - lo) / (num_bins + 1)
    fft_mel = mel(np.arange(NUM_FFT_BINS) * SAMPLE_RATE / FFT_SIZE)
    out = np.zeros((NUM_FFT_BINS, num_bins))
    for b in range(num_bins):
        left, centre, right = lo + b * delta, lo + (b + 1) * delta, lo + (b + 2) * delta
        up = (fft_mel > left) & (fft_mel <= centre)
        down = (fft_mel > centre) & (fft_mel < right)
        out[up, b] = (fft_mel[up] - left) / (centre - left)
        out[down, b] = (right - fft_mel[down]) / (right - centre)
    return out


class KaldiFbank(nn.Module):
    """Log-mel fbank. Three entry points, one arithmetic:

    - ``offline(samples)``: exact Kaldi offline features (both edges reflected).
    - ``stream_step(chunk, cache, started)``: one fixed-size streaming step.
    - ``streaming_equivalent(samples)``: what concatenated stream steps give for a whole signal.

    Streaming frame timeline: step k yields Kaldi frames 32k-1 .. 32k+30 (for a 320 ms chunk),
    i.e. every frame whose window has fully arrived. The very first step has no frame -1, so it
    repeats frame 0 there (edge padding): output frame m is Kaldi frame m-1, and 0 for m = 0.
    """

    def __init__(self, num_mel_bins: int = 80) -> None:
        super().__init__()
        self.num_mel_bins = num_mel_bins
        self.fft = False  # training only: rfft instead of the DFT matmul (see the module docstring)
        self.register_buffer("frame_matrix", torch.tensor(_frame_matrix(), dtype=torch.float32),
                             persistent=False)  # (400, 512)
        self.register_buffer("mel_matrix", torch.tensor(_mel_matrix(num_mel_bins), dtype=torch.float32),
                             persistent=False)  # (256, bins)
        povey = (0.5 - 0.5 * np.cos(2 * math.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85
        self.register_buffer("povey", torch.tensor(povey, dtype=torch.float32), persistent=False)  # (400,)

    def settings(self) -> dict[str, Any]:
        """What this front-end computes, as exported metadata states it (the sherpa flavours take it as input)."""
        return {
            "type": "kaldi-fbank", "sample_rate": SAMPLE_RATE, "num_mel_bins": self.num_mel_bins,
            "frame_length_ms": FRAME_LENGTH * 1000 // SAMPLE_RATE, "frame_shift_ms": FRAME_SHIFT * 1000 // SAMPLE_RATE,
            "window": "povey", "remove_dc_offset": True, "preemph_coeff": PREEMPH, "low_freq_hz": LOW_HZ,
            "high_freq_hz": HIGH_HZ, "snip_edges": False, "dither": 0.0, "log_floor": LOG_FLOOR,
            "samples_range": "[-1, 1]",
        }

    def _frames_to_fbank(self, buf: torch.Tensor, num_frames: int) -> torch.Tensor:
        """buf (B, N) whose frame j starts at sample 160*j, N >= 160*num_frames + 240
        -> (B, num_frames, bins). No padding op: int8 XNNPACK graphs reject it."""
        b, f, s = buf.shape[0], num_frames, FRAME_SHIFT
        blocks = buf[:, : s * (f + 1)].reshape(b, f + 1, s)  # blocks j and j+1 of frame j
        # the third block's first 80 samples: take blocks starting 80 samples early, keep the end
        late = buf[:, 2 * s - TAIL : 2 * s - TAIL + s * f].reshape(b, f, s)[:, :, s - TAIL :]
        frames = torch.cat([blocks[:, :f], blocks[:, 1:], late], dim=-1)  # (B, frames, 400)
        if self.fft:
            power = self._fft_power(frames)
        else:
            spec = frames @ self.frame_matrix
            re, im = spec[..., :NUM_FFT_BINS], spec[..., NUM_FFT_BINS:]
            power = re * re + im * im
        mel = power @ self.mel_matrix
        return torch.log(torch.clamp(mel, min=LOG_FLOOR))

    def _fft_power(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, F, 400) -> (B, F, 256) power spectrum: DC removal, pre-emphasis, window, rfft."""
        x = frames - frames.mean(dim=-1, keepdim=True)
        x = torch.cat([x[..., :1] * (1.0 - PREEMPH), x[..., 1:] - PREEMPH * x[..., :-1]], dim=-1)
        spec = torch.fft.rfft(x * self.povey, n=FFT_SIZE)[..., :NUM_FFT_BINS]
        return spec.real.square() + spec.imag.square()

    def offline(self, samples: torch.Tensor) -> torch.Tensor:
        """samples (B, N), N >= 200 -> (B, (N + 80) // 160, bins); equals Kaldi snip_edges=False."""
        n = samples.shape[1]
        if n < 200:
            raise ValueError(f"need at least 200 samples (12.5 ms) for reflected edges, got {n}")
        num_frames = (n + FRAME_SHIFT // 2) // FRAME_SHIFT
        left = torch.flip(samples[:, :LEFT_REFLECT], dims=[1])
        right = torch.flip(samples[:, n - 200 :], dims=[1])
        return self._frames_to_fbank(torch.cat([left, samples, right], dim=1), num_frames)

    def _start_cache(self, chunk: torch.Tensor) -> torch.Tensor:
        """The sample cache a stream starts with: 160 unused zeros, then the reflected start."""
        b = chunk.shape[0]
        zeros = chunk.new_zeros(b, SAMPLE_CACHE - LEFT_REFLECT)
        return torch.cat([zeros, torch.flip(chunk[:, :LEFT_REFLECT], dims=[1])], dim=1)

    def stream_step(
        self, chunk: torch.Tensor, cache: torch.Tensor, started: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """chunk (B, S) with S a multiple of 160; cache (B, 280); started (B, 1) in {0., 1.}
        -> fbank (B, S // 160, bins), new cache, new started.

        ``started`` is a float flag, not a counter, so a quantized graph holds no integer maths.
        """
        fresh = 1.0 - started
        cache = cache * started + self._start_cache(chunk) * fresh
        feats = self._frames_to_fbank(torch.cat([cache, chunk], dim=1), chunk.shape[1] // FRAME_SHIFT)
        first = feats[:, :1] * started[:, :, None] + feats[:, 1:2] * fresh[:, :, None]
        feats = torch.cat([first, feats[:, 1:]], dim=1)
        return feats, chunk[:, -SAMPLE_CACHE:], torch.ones_like(started)

    def streaming_equivalent(self, samples: torch.Tensor, chunk_samples: int) -> torch.Tensor:
        """Features that stream steps over ``samples`` zero-padded to whole chunks would give."""
        n = samples.shape[1]
        padded = -(-n // chunk_samples) * chunk_samples
        samples = nn.functional.pad(samples, (0, padded - n))
        buf = torch.cat([self._start_cache(samples), samples], dim=1)
        feats = self._frames_to_fbank(buf, padded // FRAME_SHIFT)
        return torch.cat([feats[:, 1:2], feats[:, 1:]], dim=1)
