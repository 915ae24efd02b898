"""Step an exported streaming model chunk by chunk in Python: torch, ONNX Runtime, ExecuTorch.

Used by the parity checks and the int8 accuracy report. Shapes and names come from the
metadata's streaming spec; nothing here restates them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mt2kd_edge.model_files import read_model_metadata
from mt2kd_edge.spec import StreamingSpec


class StepRunner:
    spec: StreamingSpec

    def init_state(self, batch: int = 1) -> list[np.ndarray]:
        return [np.zeros(s.batched_shape(batch), dtype=np.float32) for s in self.spec.states]

    def step(self, samples: np.ndarray, states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        raise NotImplementedError


class TorchRunner(StepRunner):
    def __init__(self, model) -> None:
        self.model, self.spec = model.eval(), model.streaming_spec()

    def step(self, samples, states):
        import torch

        with torch.no_grad():
            out = self.model.step(torch.from_numpy(samples), *[torch.from_numpy(s) for s in states])
        out = [o.numpy() for o in out]
        n = len(self.spec.outputs)
        return out[:n], out[n:]


class OnnxRunner(StepRunner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        self.spec = StreamingSpec.from_dict(read_model_metadata(path)["streaming_spec"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [self.spec.input.name] + [s.name for s in self.spec.states]

    def step(self, samples, states):
        out = self.session.run(None, dict(zip(self.input_names, [samples, *states])))
        n = len(self.spec.outputs)
        return out[:n], out[n:]


class ExecuTorchRunner(StepRunner):
    def __init__(self, path: Path) -> None:
        import torch
        from executorch.runtime import Runtime

        self._torch = torch
        self.spec = StreamingSpec.from_dict(read_model_metadata(path)["streaming_spec"])
        self.method = Runtime.get().load_program(str(path)).load_method("forward")

    def step(self, samples, states):
        t = self._torch
        out = self.method.execute([t.from_numpy(samples), *[t.from_numpy(s) for s in states]])
        out = [o.numpy() for o in out]
        n = len(self.spec.outputs)
        return out[:n], out[n:]


def stream(runner: StepRunner, audio: np.ndarray) -> dict[str, np.ndarray]:
    """Run one stream (1-D float32 audio, zero-padded to whole chunks) -> the concatenated
    per-frame outputs and the final speaker embedding."""
    chunk = runner.spec.chunk_samples
    audio = np.pad(audio.astype(np.float32), (0, -len(audio) % chunk))
    states = runner.init_state(1)
    ctc, tags, embedding = [], [], None
    for start in range(0, len(audio), chunk):
        (c, t, e), states = runner.step(audio[None, start:start + chunk], states)
        ctc.append(c[0])
        tags.append(t[0])
        embedding = e[0]
    return {"ctc_log_probs": np.concatenate(ctc), "tag_probs": np.concatenate(tags), "speaker_embedding": embedding}


def runner_for(path: Path) -> StepRunner:
    return OnnxRunner(path) if Path(path).suffix == ".onnx" else ExecuTorchRunner(path)


__all__ = ["ExecuTorchRunner", "OnnxRunner", "StepRunner", "TorchRunner", "runner_for", "stream"]
