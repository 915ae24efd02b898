"""What an exported model says about itself, so no runtime restates it.

The same JSON document goes into ``model.json`` in the model directory, into every ONNX file
(metadata key ``mt2kd_metadata``) and into every ``.pte`` (a constant method of that name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mt2kd_edge import __version__
from mt2kd_edge.model import MT2KDModel
from mt2kd_edge.model_files import METADATA_KEY, MODEL_FORMAT, MODEL_FORMAT_VERSION, to_json  # noqa: F401


@dataclass(frozen=True)
class Vocabulary:
    tokens: list[str]  # CTC units; index 0 is "<blk>"
    labels: list[tuple[str, str]]  # (mid, display name) per tag class
    placeholder: bool  # True when the checkpoint carried none (an untrained model)

    @classmethod
    def from_checkpoint(cls, payload: dict[str, Any], model: MT2KDModel) -> "Vocabulary":
        tokens, labels = payload.get("tokens"), payload.get("labels")
        placeholder = tokens is None or labels is None
        if tokens is None:
            tokens = ["<blk>"] + [f"<unit{i}>" for i in range(1, model.config.vocab_size)]
        if labels is None:
            labels = [(f"/m/mt2kd_{i:02d}", f"class {i}") for i in range(model.config.num_tag_classes)]
        return cls(list(tokens), [tuple(lab) for lab in labels], placeholder)


def build_metadata(model: MT2KDModel, vocab: Vocabulary, **artefact: Any) -> dict[str, Any]:
    """The metadata document; ``artefact`` adds per-file facts (backend, precision, ...)."""
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "mt2kd_edge_version": __version__,
        "model_config": model.config.to_dict(),
        "streaming_spec": model.streaming_spec().to_dict(),
        "frontend": model.frontend.settings(),  # built from the model config by frontend.py
        "tokens": vocab.tokens,
        "labels": [{"index": i, "mid": m, "name": n} for i, (m, n) in enumerate(vocab.labels)],
        "placeholder_vocabulary": vocab.placeholder,
        **artefact,
    }


