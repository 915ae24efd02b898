"""Extract teacher targets for a cut set into the cache (resumable, worker processes, tqdm)."""

from __future__ import annotations

import gzip
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mt2kd_edge.fileio import atomic_write_text
from mt2kd_edge.spec import SAMPLE_RATE
from train.data.layout import MANIFESTS, POOL_CUTS

POOL_MANIFEST = POOL_CUTS  # the stage-1 pool (train/data/README.md)
CACHED_MANIFEST = "pool_cuts_train_targets.jsonl.gz"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CT2_INTER_THREADS")


@dataclass(frozen=True)
class TeacherSetup:
    """Everything a worker process needs to build the same teachers (picklable)."""
    names: tuple[str, ...] = ("whisper", "tagger", "speaker")
    at_checkpoint: str | None = None
    whisper_window_s: float | None = None
    onnx_configs: tuple[str, ...] = ()  # JSON OnnxTeacherConfig paths
    threads: int = 1  # per worker: total threads = workers x threads


def build_teachers(setup: TeacherSetup) -> list[Any]:
    """Instantiate the teachers of ``setup`` in this process, each limited to ``setup.threads``."""
    import torch

    torch.set_num_threads(setup.threads)
    teachers: list[Any] = []
    for name in setup.names:
        if name == "whisper":
            from train.teachers.whisper import DEFAULT_WINDOW_S, WhisperEncoderTeacher
            teachers.append(WhisperEncoderTeacher(window_s=setup.whisper_window_s or DEFAULT_WINDOW_S,
                                                  cpu_threads=setup.threads))
        elif name == "tagger":
            from train.teachers.singletask.teacher import SingleTaskTeacher
            if not setup.at_checkpoint or not Path(setup.at_checkpoint).is_file():
                raise FileNotFoundError(f"AT teacher checkpoint not found: {setup.at_checkpoint} "
                                        "(train it with python -m train.teachers.singletask)")
            teachers.append(SingleTaskTeacher(setup.at_checkpoint, name="tagger"))
        elif name == "speaker":
            from train.teachers.resemblyzer_teacher import ResemblyzerTeacher
            teachers.append(ResemblyzerTeacher())
        else:
            raise ValueError(f"unknown teacher {name!r} (whisper, tagger, speaker; ONNX via onnx_configs)")
    from train.teachers.onnx_teacher import OnnxTeacher, OnnxTeacherConfig
    for path in setup.onnx_configs:
        cfg = OnnxTeacherConfig.from_json(path)
        teachers.append(OnnxTeacher(OnnxTeacherConfig(**{**cfg.__dict__, "num_threads": setup.threads})))
    return teachers


_WORKER: dict[str, Any] = {}


def _init_worker(setup: TeacherSetup) -> None:
    for var in THREAD_VARS:
        os.environ[var] = str(setup.threads)
    _WORKER["teachers"] = build_teachers(setup)


def _run_shard(job: tuple[int, list[dict], str]) -> dict[str, Any]:
    """Compute every teacher's targets for one shard; write h5, then the cuts (the done-marker)."""
    from lhotse import CutSet, MonoCut
    from lhotse.features.io import NumpyHdf5Writer

    from train.teachers.base import TargetKind

    index, cut_dicts, shard_dir = job
    teachers = _WORKER["teachers"]
    base = Path(shard_dir) / f"shard-{index:05d}"
    seconds = {t.spec.name: 0.0 for t in teachers}
    audio_s, cuts = 0.0, []
    with NumpyHdf5Writer(base.with_suffix(".h5"), mode="w") as writer:
        for d in cut_dicts:
            cut = MonoCut.from_dict(d)
            audio = cut.load_audio()[0]
            audio_s += len(audio) / SAMPLE_RATE
            custom = dict(cut.custom or {})
            for t in teachers:
                t0 = time.perf_counter()
                value = t.spec.check(t(audio), len(audio))
                seconds[t.spec.name] += time.perf_counter() - t0
                key = f"{cut.id}/{t.spec.name}"
                if t.spec.kind is TargetKind.FRAMES:
                    custom[t.spec.name] = writer.store_array(key, value, frame_shift=1.0 / t.spec.frame_rate_hz,
                                                             temporal_dim=0)
                else:
                    custom[t.spec.name] = writer.store_array(key, value)
            cut.custom = custom
            cuts.append(cut)
    stats = {"shard": index, "cuts": len(cuts), "audio_s": audio_s, "teacher_s": seconds}
    atomic_write_text(base.with_suffix(".json"), json.dumps(stats))
    tmp = Path(str(base) + ".tmp.jsonl.gz")
    CutSet.from_cuts(cuts).to_file(tmp)
    tmp.replace(Path(str(base) + ".jsonl.gz"))
    return stats


def _read_cut_dicts(path: Path, limit: int | None) -> list[dict]:
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
                if limit is not None and len(out) >= limit:
                    break
    return out


def _same_files(settings: dict) -> dict:
    """Settings with file paths resolved, so a link or another spelling of the same file still matches."""
    setup = dict(settings.get("setup", {}))
    if setup.get("at_checkpoint"):
        setup["at_checkpoint"] = os.path.realpath(setup["at_checkpoint"])
    return {**settings, "cuts": os.path.realpath(settings["cuts"]), "setup": setup}


def extract_pool(cuts_path: Path, out_dir: Path, setup: TeacherSetup, workers: int = 2, shard_size: int = 64,
                 limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Cache ``setup``'s teacher targets for every cut of ``cuts_path`` into ``out_dir``.

    Resumable: shards whose cut manifest exists are skipped. Returns a summary with each teacher's
    speed (seconds of audio per second of one worker's compute) and the wall-clock throughput.
    """
    import multiprocessing as mp

    from lhotse import CutSet
    from tqdm import tqdm

    out_dir = out_dir.resolve()  # the manifests store array paths: make them work from any directory
    shard_dir = out_dir / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    cut_dicts = _read_cut_dicts(cuts_path, limit)
    shards = [cut_dicts[i : i + shard_size] for i in range(0, len(cut_dicts), shard_size)]
    todo = [(k, s, str(shard_dir)) for k, s in enumerate(shards)
            if not (shard_dir / f"shard-{k:05d}.jsonl.gz").exists()]
    # the settings a resumed run must share with the first one
    meta_path = out_dir / "targets.json"
    probe = None
    settings = {"cuts": str(cuts_path), "num_cuts": len(cut_dicts), "shard_size": shard_size,
                "setup": {**setup.__dict__, "threads": None}}
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if _same_files(old["settings"]) != _same_files(json.loads(json.dumps(settings))):
            raise ValueError(f"{meta_path} was made with other settings: {old['settings']}; use another --out")
    else:
        probe = build_teachers(TeacherSetup(**{**setup.__dict__, "threads": 1}))
        specs = [t.spec.to_dict() for t in probe]
        atomic_write_text(meta_path, json.dumps({"settings": settings, "specs": specs}, indent=2))
        del probe
    t0 = time.time()
    done = []
    bar = tqdm(total=len(cut_dicts), initial=len(cut_dicts) - sum(len(j[1]) for j in todo), unit="cut",
               desc="extract", disable=not progress)
    if todo:
        if workers <= 1:
            _init_worker(setup)
            for job in todo:
                done.append(_run_shard(job))
                bar.update(done[-1]["cuts"])
        else:
            with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(setup,)) as pool:
                for stats in pool.imap_unordered(_run_shard, todo):
                    done.append(stats)
                    bar.update(stats["cuts"])
    bar.close()
    wall = time.time() - t0
    # merge every finished shard (this run's and earlier runs') into one manifest
    parts = [shard_dir / f"shard-{k:05d}.jsonl.gz" for k in range(len(shards))]
    CutSet.from_cuts(c for p in parts for c in CutSet.from_file(p)).to_file(out_dir / CACHED_MANIFEST)
    all_stats = [json.loads((shard_dir / f"shard-{k:05d}.json").read_text()) for k in range(len(shards))]
    audio_s = sum(s["audio_s"] for s in all_stats)
    teacher_s: dict[str, float] = {}
    for s in all_stats:
        for name, v in s["teacher_s"].items():
            teacher_s[name] = teacher_s.get(name, 0.0) + v
    summary = {
        "cuts": len(cut_dicts), "shards": len(shards), "shards_this_run": len(done), "audio_hours": audio_s / 3600,
        "workers": workers, "wall_s_this_run": wall,
        "audio_s_per_s_this_run": sum(s["audio_s"] for s in done) / wall if done else None,
        "per_teacher_audio_s_per_worker_s": {k: audio_s / v for k, v in teacher_s.items()},
        "manifest": str(out_dir / CACHED_MANIFEST),
    }
    atomic_write_text(out_dir / "extract_summary.json", json.dumps(summary, indent=2))
    return summary


def run_extract(args: Any) -> dict[str, Any]:
    """Step 2 of the teacher chain (``python -m train.targets``)."""
    from train.teachers.chain import at_checkpoint

    at = at_checkpoint(args)
    names = tuple(n for n in args.teachers.split(",") if n)
    setup = TeacherSetup(names=names, at_checkpoint=str(at) if "tagger" in names else None,
                         whisper_window_s=args.whisper_window_s,
                         onnx_configs=tuple(str(p) for p in args.onnx_teacher))
    summary = extract_pool(args.corpus / MANIFESTS / POOL_MANIFEST, args.out / "targets", setup,
                           workers=args.workers, shard_size=args.shard_size, limit=args.limit)
    print(json.dumps(summary, indent=2))
    return summary
