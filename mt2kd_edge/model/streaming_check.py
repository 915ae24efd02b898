"""`mt2kd-edge check`: stream audio through the model exactly as a device would, and prove it.

The audio arrives in 20 ms pieces (a microphone callback), the C++ core cuts it into model
chunks, the model steps chunk by chunk with explicit state, and the result is compared with one
full causal forward over the same audio. It steps the torch model, so it lives in the model package
(which needs torch); the runtime API never imports it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import _core
from ..spec import SAMPLE_RATE

MIC_PIECE_SAMPLES = 320  # 20 ms: a typical audio callback size


@dataclass
class CheckReport:
    parameters: int
    audio_seconds: float
    chunks: int
    chunk_ms: int
    step_ms_median: float
    step_ms_p95: float
    real_time_factor: float  # compute seconds per audio second, streaming, this process's threads
    max_abs_diff_ctc: float  # streaming vs full forward
    max_abs_diff_tags: float
    max_abs_diff_speaker: float
    spec_table: str

    def lines(self) -> list[str]:
        return [
            self.spec_table,
            "",
            f"model: {self.parameters / 1e6:.2f} M parameters",
            f"audio: {self.audio_seconds:.2f} s in {MIC_PIECE_SAMPLES * 1000 // SAMPLE_RATE} ms pieces "
            f"-> {self.chunks} chunks of {self.chunk_ms} ms",
            f"step time: median {self.step_ms_median:.2f} ms, p95 {self.step_ms_p95:.2f} ms per chunk; "
            f"real-time factor {self.real_time_factor:.4f}",
            "streaming vs full causal forward, max |difference|:",
            f"  CTC log-probs {self.max_abs_diff_ctc:.2e}   tag probs {self.max_abs_diff_tags:.2e}   "
            f"speaker embedding {self.max_abs_diff_speaker:.2e}",
        ]


def run_check(model, audio: np.ndarray) -> CheckReport:
    if len(audio) == 0:
        raise ValueError("no audio to check (0 samples)")
    spec = model.streaming_spec()
    chunker = _core.Chunker(_core.ChunkerConfig(sample_rate=spec.sample_rate, chunk_samples=spec.chunk_samples))
    states = model.init_state(1)
    ctc, tags, step_ms, embedding = [], [], [], None

    def drain() -> None:
        nonlocal states, embedding
        while chunker.is_ready():
            chunk = torch.from_numpy(chunker.pop_chunk())[None]
            t0 = time.perf_counter()
            (c, t, embedding), states = model.step(chunk, states)
            step_ms.append(1000 * (time.perf_counter() - t0))
            ctc.append(c)
            tags.append(t)

    with torch.inference_mode():
        for start in range(0, len(audio), MIC_PIECE_SAMPLES):
            chunker.accept_waveform(spec.sample_rate, audio[start:start + MIC_PIECE_SAMPLES])
            drain()
        chunker.input_finished()
        drain()
        padded = chunker.num_chunks_popped * spec.chunk_samples
        x = torch.from_numpy(np.pad(audio, (0, padded - len(audio))))[None]
        full = model(x)
    audio_s = len(audio) / spec.sample_rate
    return CheckReport(
        parameters=model.num_parameters(),
        audio_seconds=audio_s,
        chunks=len(step_ms),
        chunk_ms=spec.chunk_ms,
        step_ms_median=float(np.median(step_ms)),
        step_ms_p95=float(np.percentile(step_ms, 95)),
        real_time_factor=sum(step_ms) / 1000 / audio_s,
        max_abs_diff_ctc=float((torch.cat(ctc, 1) - full.ctc_log_probs).abs().max()),
        max_abs_diff_tags=float((torch.cat(tags, 1) - torch.sigmoid(full.tag_logits)).abs().max()),
        max_abs_diff_speaker=float((embedding - full.speaker_embedding).abs().max()),
        spec_table=spec.describe(),
    )
