"""Stage 1: multi-teacher distillation on the unlabelled pool, from the cached teacher targets.

One task, "kd": every batch carries all three teachers' targets, and the loss is the scaled sum
of the three MT2KD losses (mt2kd_edge.model.distillation): masked L1 to two stacked 50 Hz Whisper
frames with the look-behind shift, BCE to the tagging teacher's clip probabilities, and 1 - cosine
to the speaker teacher's embedding.
"""

from __future__ import annotations

from pathlib import Path

import torch

from mt2kd_edge.spec import SAMPLE_RATE

from train.targets import collate_targets, load_cached_cuts
from train.teachers.base import TargetKind

from .batches import Batch


class DistillationTasks:
    valid_tasks = ("kd",)

    def __init__(self, target_dir: str | Path) -> None:
        if not target_dir or not (Path(target_dir) / "targets.json").is_file():
            raise FileNotFoundError(f"{target_dir}: no teacher target cache; extract it with "
                                    f"`python -m train.targets`")
        cuts, self.specs = load_cached_cuts(target_dir)
        self.cuts = {"kd": list(cuts)}
        self.by_kind = {}
        for spec in self.specs:
            if spec.kind in self.by_kind:
                raise ValueError(f"two teachers of kind {spec.kind.value}: {self.by_kind[spec.kind].name}, {spec.name}")
            self.by_kind[spec.kind] = spec
        missing = {TargetKind.FRAMES, TargetKind.CLIP_PROBS, TargetKind.EMBEDDING} - set(self.by_kind)
        if missing:
            raise ValueError(f"the target cache lacks teachers of kind {sorted(k.value for k in missing)}")
        self.labels = None  # stage 1 has no label set of its own; stage 2 brings the corpus labels

    def tokens(self) -> None:
        return None

    def model_overrides(self) -> dict:
        return {"kd_asr_teacher_dim": self.by_kind[TargetKind.FRAMES].dim,
                "kd_tag_teacher_classes": self.by_kind[TargetKind.CLIP_PROBS].dim,
                "kd_spk_teacher_dim": self.by_kind[TargetKind.EMBEDDING].dim}

    def make_batch(self, task: str, cuts: list, max_seconds: float) -> Batch:
        t = collate_targets(cuts, self.specs, max_samples=int(max_seconds * SAMPLE_RATE))
        return Batch(task, t["samples"], t["num_samples"], t)

    def heads(self, embed_dim: int) -> torch.nn.Module:
        return torch.nn.Module()  # the distillation heads live in the model (model.distill)

    def loss_parts(self, out, batch: Batch, model, heads) -> dict[str, torch.Tensor]:
        frames, probs, emb = (self.by_kind[k] for k in (TargetKind.FRAMES, TargetKind.CLIP_PROBS, TargetKind.EMBEDDING))
        t = batch.targets
        return {"asr": model.distill.asr_loss(out.encoder, out.frame_mask, t[frames.name], t[frames.name + "_lens"]),
                "at": model.distill.tag_loss(out.encoder, out.frame_mask, t[probs.name]),
                "sv": model.distill.speaker_loss(out.speaker_embedding, t[emb.name])}
