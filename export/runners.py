"""The steppers of the recipes: a torch model (or a traced step graph) and an ExecuTorch program in Python.
Each is an ``mt2kd_edge.stepping.Stepper``: ``step(samples, states) -> (outputs, states)``, the signature of
the SDK's ONNX stepper (``mt2kd_edge.backends.OnnxStep``) and of a Python backend of the C++ engine.

Used by the parity checks, int8 calibration and ``train.evaluation.students --checkpoint --stepper torch``.
Shapes and names come from the streaming spec; nothing here restates them.
"""

from __future__ import annotations

from pathlib import Path

from mt2kd_edge.backends import OnnxStep
from mt2kd_edge.model_files import read_pte_metadata
from mt2kd_edge.spec import StreamingSpec
from mt2kd_edge.stepping import Stepper, stream


class TorchStep(Stepper):
    """``model.step`` in torch eager, or, with ``graph``, a traced step with the deployment signature
    (``graph(samples, *states)`` -> flat outputs then states: the PT2E graph being calibrated)."""

    def __init__(self, model, graph=None) -> None:
        self.model, self.graph, self.spec = model.eval(), graph, model.streaming_spec()

    def step(self, samples, states):
        import torch

        x, s = torch.from_numpy(samples), [torch.from_numpy(a) for a in states]
        with torch.no_grad():
            outputs, new_states = self.model.step(x, s) if self.graph is None else self.split(self.graph(x, *s))
        return [o.numpy() for o in outputs], [t.numpy() for t in new_states]


class ExecuTorchStep(Stepper):
    """A ``.pte`` in ExecuTorch's Python runtime (the C++ engine loads it natively: backends.create_backend)."""

    def __init__(self, path: Path) -> None:
        import torch
        from executorch.runtime import Runtime

        self._torch = torch
        program = Runtime.get().load_program(str(path))  # loaded once: the metadata is one of its methods
        self.spec = StreamingSpec.from_dict(read_pte_metadata(path, program)["streaming_spec"])
        self.method = program.load_method("forward")

    def step(self, samples, states):
        t = self._torch
        out = self.method.execute([t.from_numpy(samples), *[t.from_numpy(s) for s in states]])
        return self.split([o.numpy() for o in out])


__all__ = ["ExecuTorchStep", "OnnxStep", "Stepper", "TorchStep", "stream"]
