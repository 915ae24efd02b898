"""Stage-1 student step speed: targets read from the cache vs computed by the teachers on the fly.

One step = load a batch (audio + targets), student forward, the three distillation losses
(``DistillationHeads``), backward, AdamW. Both variants use the same cuts, crop and threads.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np
import torch

from mt2kd_edge.fileio import atomic_write_text
from mt2kd_edge.spec import SAMPLE_RATE
from train.teachers.chain import parser


def stage1_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    out = model(batch["samples"], batch["num_samples"])
    d = model.distill
    return (d.asr_loss(out.encoder, out.frame_mask, batch["whisper"], batch["whisper_lens"])
            + d.tag_loss(out.encoder, out.frame_mask, batch["tagger"])
            + d.speaker_loss(out.speaker_embedding, batch["speaker"]))


def on_the_fly_batch(cuts: list[Any], teachers: list[Any], max_samples: int) -> dict[str, torch.Tensor]:
    from train.teachers.base import TargetKind

    audios = [c.load_audio()[0][:max_samples] for c in cuts]
    batch = {"samples": torch.nn.utils.rnn.pad_sequence([torch.from_numpy(a) for a in audios], batch_first=True),
             "num_samples": torch.tensor([len(a) for a in audios])}
    for t in teachers:
        values = [torch.from_numpy(t(a)) for a in audios]
        if t.spec.kind is TargetKind.FRAMES:
            batch[t.spec.name] = torch.nn.utils.rnn.pad_sequence(values, batch_first=True)
            batch[t.spec.name + "_lens"] = torch.tensor([len(v) for v in values])
        else:
            batch[t.spec.name] = torch.stack(values)
    return batch


def bench(target_dir: Any, setup: Any, batch_size: int = 8, steps: int = 4, max_seconds: float = 8.0,
          threads: int = 2) -> dict[str, Any]:
    from mt2kd_edge.model import ModelConfig, MT2KDModel

    from .dataset import CachedTargets
    from .extract import build_teachers

    torch.set_num_threads(threads)
    ds = CachedTargets(target_dir, max_samples=int(max_seconds * SAMPLE_RATE))
    model = MT2KDModel(ModelConfig()).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    teachers = build_teachers(type(setup)(**{**setup.__dict__, "threads": threads}))
    results: dict[str, Any] = {"batch_size": batch_size, "max_seconds": max_seconds, "threads": threads,
                               "student_parameters": model.num_parameters()}
    # the two modes alternate step by step on the same cuts, so a busy machine slows both alike
    times: dict[str, list[tuple[float, float]]] = {"cached": [], "on_the_fly": []}
    audio = 0.0
    for s in range(steps + 1):  # step 0 warms up
        cuts = [ds[(s * batch_size + j) % len(ds)] for j in range(batch_size)]
        for mode in times:
            t0 = time.perf_counter()
            batch = (ds.collate_fn(cuts) if mode == "cached"
                     else on_the_fly_batch(cuts, teachers, ds.max_samples))
            t_load = time.perf_counter() - t0
            loss = stage1_loss(model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if s:
                times[mode].append((time.perf_counter() - t0, t_load))
                audio += float(batch["num_samples"].sum()) / SAMPLE_RATE / 2
    for mode, ts in times.items():
        med = float(np.median([t for t, _ in ts]))
        results[mode] = {"median_s_per_step": med, "median_targets_s_per_step": float(np.median([t for _, t in ts])),
                         "audio_s_per_s": audio / sum(t for t, _ in ts)}
    results["speedup"] = results["on_the_fly"]["median_s_per_step"] / results["cached"]["median_s_per_step"]
    return results


def run_bench(args: Any) -> dict[str, Any]:
    """Step 4 of the teacher chain (``python -m train.targets.bench``; needs a finished ``python -m train.targets``)."""
    import json as _json

    from .extract import TeacherSetup
    meta = _json.loads((args.out / "targets" / "targets.json").read_text())
    setup = TeacherSetup(**{**meta["settings"]["setup"], "threads": 1,
                            "names": tuple(meta["settings"]["setup"]["names"]),
                            "onnx_configs": tuple(meta["settings"]["setup"]["onnx_configs"])})
    res = bench(args.out / "targets", setup)
    atomic_write_text(args.out / "bench_stage1.json", json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))
    return res


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m train.targets.bench", "Stage-1 student step speed: cached targets vs teachers on the fly "
               "(writes OUT/bench_stage1.json).", "before: python -m train.targets (the chain: train/teachers/chain.py)")
    run_bench(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
