"""nn.Module wrappers whose forward is exactly a deployment signature (no monkey-patching)."""

from __future__ import annotations

import torch
from torch import nn

from mt2kd_edge.model import MT2KDModel


class StreamingStep(nn.Module):
    """forward(samples, *states) -> (ctc_log_probs, tag_probs, speaker_embedding, *new_states).

    Inputs and outputs are in the order of the model's streaming spec; export names them after it.
    """

    def __init__(self, model: MT2KDModel) -> None:
        super().__init__()
        self.model = model.eval()

    def forward(self, samples: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs, new_states = self.model.step(samples, states)
        return (*outputs, *new_states)


def io_names(model: MT2KDModel) -> tuple[list[str], list[str]]:
    """ONNX input and output names: spec names in, and ``new.<state>`` for returned states."""
    spec = model.streaming_spec()
    inputs = [spec.input.name] + [s.name for s in spec.states]
    outputs = [o.name for o in spec.outputs] + [f"new.{s.name}" for s in spec.states]
    return inputs, outputs


def example_inputs(model: MT2KDModel, batch: int = 1, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    samples = 0.1 * torch.randn(batch, model.config.chunk_samples, generator=g)
    return (samples, *model.init_state(batch))
