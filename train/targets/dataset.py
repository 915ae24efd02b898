"""Read cached teacher targets back with their cuts, batched the way the stage-1 losses want them
(``mt2kd_edge.model.distillation``): frames (B, U, D) + lengths (B,), clip probs (B, C),
embeddings (B, E), next to the padded audio (B, N) and its lengths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from train.teachers.base import TargetKind, TargetSpec

from .extract import CACHED_MANIFEST


def load_cached_cuts(target_dir: str | Path) -> tuple[Any, list[TargetSpec]]:
    """-> (lazy CutSet of the pool with target fields, the teachers' specs)."""
    from lhotse import CutSet

    target_dir = Path(target_dir)
    meta = json.loads((target_dir / "targets.json").read_text())
    return CutSet.from_file(target_dir / CACHED_MANIFEST), [TargetSpec.from_dict(d) for d in meta["specs"]]


def _load(cut: Any, spec: TargetSpec) -> np.ndarray:
    # read the whole stored array (not cut-relative slicing): targets cover the full recording
    return np.asarray(cut.custom[spec.name].load(), dtype=np.float32)


def collate_targets(cuts: Sequence[Any], specs: Sequence[TargetSpec], max_samples: int | None = None
                    ) -> dict[str, torch.Tensor]:
    """cuts with target fields -> {"samples" (B, N), "num_samples" (B,), <name> ..., <name>_lens (B,)}.

    ``max_samples`` crops each clip from its start (frame targets are cropped to match)."""
    audios = [c.load_audio()[0][:max_samples] for c in cuts]
    batch: dict[str, torch.Tensor] = {
        "samples": torch.nn.utils.rnn.pad_sequence([torch.from_numpy(a) for a in audios], batch_first=True),
        "num_samples": torch.tensor([len(a) for a in audios]),
    }
    for spec in specs:
        values = [_load(c, spec) for c in cuts]
        if spec.kind is TargetKind.FRAMES:
            values = [v[: spec.num_frames(len(a))] for v, a in zip(values, audios)]
            batch[spec.name] = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(v) for v in values],
                                                               batch_first=True)
            batch[spec.name + "_lens"] = torch.tensor([len(v) for v in values])
        else:
            batch[spec.name] = torch.from_numpy(np.stack(values))
    return batch


class CachedTargets(torch.utils.data.Dataset):
    """Map-style dataset over the cached pool: item i is one cut; use ``collate_fn`` to batch."""

    def __init__(self, target_dir: str | Path, max_samples: int | None = None) -> None:
        cuts, self.specs = load_cached_cuts(target_dir)
        self.cuts = list(cuts)
        self.max_samples = max_samples

    def __len__(self) -> int:
        return len(self.cuts)

    def __getitem__(self, i: int) -> Any:
        return self.cuts[i]

    def collate_fn(self, cuts: Sequence[Any]) -> dict[str, torch.Tensor]:
        return collate_targets(cuts, self.specs, self.max_samples)
