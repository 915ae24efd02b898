"""Stepping an exported streaming model by hand, one signature for every kind of step:
``step(samples (B, chunk_samples), states) -> (outputs, states)``, each list in the streaming spec's order
with the batch first (numpy). It is the signature the C++ core calls on a Python backend
(``_core.create_python_backend``), so a stepper can also run under the Engine.

The steppers: ``backends.OnnxStep`` (ONNX Runtime, the one the Engine's ONNX backend uses), and, in the
recipes, ``export.runners.TorchStep`` and ``ExecuTorchStep``. ``stream`` is the one loop over a whole clip
(parity checks, int8 calibration, the int8 report); the Engine does its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .spec import StreamingSpec


class Stepper:
    spec: StreamingSpec

    def init_state(self, batch: int = 1) -> list[np.ndarray]:
        return [np.zeros(s.batched_shape(batch), dtype=np.float32) for s in self.spec.states]

    def step(self, samples: np.ndarray, states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        raise NotImplementedError

    def __call__(self, samples: np.ndarray, states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.step(samples, states)

    def split(self, flat: Sequence) -> tuple[list, list]:
        """A step graph's flat results (outputs, then new states: how ONNX and ExecuTorch return them) -> the pair."""
        n = len(self.spec.outputs)
        return list(flat[:n]), list(flat[n:])


def stream(stepper: Stepper, audio: np.ndarray) -> dict[str, np.ndarray]:
    """Run one stream (1-D float32 audio, zero-padded to whole chunks) -> the concatenated
    per-frame outputs and the final speaker embedding."""
    chunk = stepper.spec.chunk_samples
    audio = np.pad(audio.astype(np.float32), (0, -len(audio) % chunk))
    states = stepper.init_state(1)
    ctc, tags, embedding = [], [], None
    for start in range(0, len(audio), chunk):
        (c, t, e), states = stepper.step(audio[None, start:start + chunk], states)
        ctc.append(c[0])
        tags.append(t[0])
        embedding = e[0]
    return {"ctc_log_probs": np.concatenate(ctc), "tag_probs": np.concatenate(tags), "speaker_embedding": embedding}


__all__ = ["Stepper", "stream"]
