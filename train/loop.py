"""The training loop shared by both stages: task scheduling, optimisation, validation,
atomic latest/best checkpoints with resume, TensorBoard and JSONL logs, and DDP (torchrun)."""

from __future__ import annotations

import copy
import fcntl
import functools
import json
import os
import random
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from tqdm import tqdm

from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.model_layout import BPE
from mt2kd_edge.model import ModelConfig, MT2KDModel, load_checkpoint, save_checkpoint

from .augment import SpecAugment, change_speed
from .batches import Batch, TaskSampler, _tupleize
from .config import TrainConfig
from .data.voices import SYSTEM_FAMILY
from .lr_schedule import warmup_cosine
from .supervised import SupervisedTasks


ENCODER_PREFIXES = ("frontend.", "encoder.")  # the shared encoder's parameters; the rest are task heads
SPEC_AUGMENT = SpecAugment()


def repeat_by_system(cuts: list, repeats: dict) -> list:
    """Each speech cut ``repeats[its synthesis system]`` times (1 if unnamed): a pass then draws those voices
    that much more often. A name that is no synthesis system is a typo, not a no-op; a system that this
    (perhaps limited) corpus happens to lack is fine."""
    unknown = sorted(set(repeats) - set(SYSTEM_FAMILY))
    if unknown:
        raise ValueError(f"system_repeats names {unknown}, which are not synthesis systems; these are: "
                         f"{', '.join(SYSTEM_FAMILY)}")
    if not repeats:
        return cuts
    return [c for c in cuts for _ in range(repeats.get((c.supervisions[0].custom or {}).get("system"), 1))]


class RunDirBusy(RuntimeError):
    """Another training process holds the run directory's lock."""


def make_tasks(cfg: TrainConfig, out: Path, is_main: bool):
    """The stage's task provider: cuts per task, batches, losses, training-only heads."""
    if cfg.stage == "stage1":
        from .distill import DistillationTasks

        return DistillationTasks(cfg.targets)
    tasks = tuple(t for t, ratio in cfg.task_ratio.items() if ratio > 0)
    inherited = Path(cfg.init_from).parent / BPE if cfg.init_from else None
    if is_main and inherited is not None and inherited.is_file() and not (out / BPE).exists():
        # A student that already reads (a bundle's student.pt, or another run's checkpoint) keeps its
        # vocabulary: a new BPE model would give its CTC outputs other meanings.
        shutil.copy2(inherited, out / BPE)
    return SupervisedTasks(cfg.corpus, out, cfg.bpe_vocab_size, is_main, tasks)


def pick_device(name: str) -> torch.device:
    """The training device; under torchrun each process takes the GPU of its LOCAL_RANK."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device=cuda, but torch sees no CUDA GPU (install a CUDA torch wheel, or --set device=cpu)")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def cpu_has_bf16() -> bool:
    """AMX or AVX512-BF16: bf16 matmuls several times faster than fp32 (measured 6.6x on AMX here)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " amx_bf16" in flags or " avx512_bf16" in flags


def use_bf16(precision: str, device: torch.device) -> bool:
    if precision != "auto":
        return precision == "bf16"
    return device.type == "cuda" or cpu_has_bf16()


def distributed(device: torch.device) -> tuple[int, int]:
    """(rank, world size); joins the torchrun process group (gloo on CPU, NCCL on GPUs) when launched by it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return int(os.environ.get("RANK", "0")), world


LR_FLOOR = 0.05  # the schedule ends at this fraction of the peak lr


def lr_at(step: int, cfg: TrainConfig) -> float:
    return warmup_cosine(step, cfg.lr, cfg.warmup_steps, cfg.steps, LR_FLOOR)


def build_model(cfg: TrainConfig, tasks) -> MT2KDModel:
    if cfg.init_from:
        model, _ = load_checkpoint(cfg.init_from)
        # stage 1 has no vocabulary or label set yet: those heads are (re)built for this corpus
        wanted = model.config.with_overrides(**cfg.model, **tasks.model_overrides())
        if wanted != model.config:
            fresh = MT2KDModel(wanted)
            own = fresh.state_dict()
            kept = {k: v for k, v in model.state_dict().items() if k in own and own[k].shape == v.shape}
            fresh.load_state_dict({**own, **kept})
            model = fresh
        return model.train()
    return MT2KDModel(ModelConfig(**{**cfg.model, **tasks.model_overrides()})).train()


class LossModule(torch.nn.Module):
    """Model + training-only heads; forward returns the named loss parts, so DDP sees exactly the
    parameters each step's loss uses (the other tasks' heads are simply unused that step)."""

    def __init__(self, model: MT2KDModel, heads: torch.nn.Module, tasks, bf16: bool = False) -> None:
        super().__init__()
        self.model, self.heads, self.tasks, self.bf16 = model, heads, tasks, bf16

    def forward(self, batch, chunk_frames: int | None = None, feature_augment=None) -> dict[str, torch.Tensor]:
        with torch.autocast(batch.audio.device.type, dtype=torch.bfloat16, enabled=self.bf16 and self.model.training):
            out = self.model(batch.audio, batch.num_samples, chunk_frames=chunk_frames,
                             feature_augment=feature_augment)
        return self.tasks.loss_parts(out, batch, self.model, self.heads)


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.device = pick_device(cfg.device)
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.rank, self.world = distributed(self.device)
        self.is_main = self.rank == 0
        torch.set_num_threads(max(1, cfg.threads // self.world))
        torch.manual_seed(cfg.seed)
        self.out = Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = self._take_lock() if self.is_main else None
        if self.is_main:
            make_tasks(cfg, self.out, True)  # one-time preparation (the BPE model) on rank 0 first
        if self.world > 1:
            torch.distributed.barrier()
        self.tasks = make_tasks(cfg, self.out, self.is_main)
        self.model = build_model(cfg, self.tasks).to(self.device)
        self.heads = self.tasks.heads(self.model.config.speaker_embed_dim).to(self.device)
        if cfg.freeze_encoder:  # light task heads over a fixed (stage-1) encoder: no encoder gradients at all
            for name, p in self.model.named_parameters():
                if name.startswith(ENCODER_PREFIXES):
                    p.requires_grad_(False)
        self.samplers = {t: TaskSampler(self._train_cuts(t), cfg.batch_seconds, cfg.seed, self.rank, self.world,
                                        cfg.bucket_batches)
                         for t in cfg.task_ratio if cfg.task_ratio[t] > 0}
        self.model.frontend.fft = cfg.fft_frontend
        self.optimizer = torch.optim.AdamW(self._param_groups(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                           fused=self.device.type == "cpu")
        self.step, self.best = 0, float("inf")
        self.task_rng = random.Random(cfg.seed)  # same on every rank: all ranks run the same task
        self._resume()
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="batch") if cfg.prefetch else None
        self._pending = None  # (draw state before it, drawn step, future batch) of the next step
        self.module = LossModule(self.model, self.heads, self.tasks, use_bf16(cfg.precision, self.device))
        gpu = [self.device] if self.device.type == "cuda" else None
        self.ddp = (torch.nn.parallel.DistributedDataParallel(self.module, device_ids=gpu, find_unused_parameters=True)
                    if self.world > 1 else self.module)
        self.writer = self._writer()

    def _param_groups(self) -> list[dict]:
        """The encoder (front-end included) and everything else (task heads, projections), each with its
        own lr scale: stage 2 fine-tunes a distilled encoder gently (`encoder_lr_scale` < 1) while the new
        heads learn at full lr; at full lr the distilled speaker space was lost (NOTES.md)."""
        encoder, rest = [], []
        for name, p in self.model.named_parameters():
            if not p.requires_grad or (self.cfg.stage != "stage1" and name.startswith("distill.")):
                continue
            (encoder if name.startswith(ENCODER_PREFIXES) else rest).append(p)
        rest += list(self.heads.parameters())
        groups = [{"params": encoder, "lr_scale": self.cfg.encoder_lr_scale}, {"params": rest, "lr_scale": 1.0}]
        return [g for g in groups if g["params"]]

    def _train_cuts(self, task: str):
        cuts = [c for c in self.tasks.cuts[task]
                if not _is_valid_split(c.id) and (task != "asr" or c.duration <= self.cfg.max_cut_seconds)]
        return repeat_by_system(cuts, self.cfg.system_repeats) if task in ("asr", "sv") else cuts

    def _take_lock(self):
        """One training process per run directory: a second one would interleave checkpoints."""
        f = open(self.out / "train.lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise RunDirBusy(f"{self.out}: another training process is writing here") from None
        return f

    def _writer(self):
        if not self.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # TensorBoard is optional; the JSONL log always exists
            return None
        return SummaryWriter(str(self.out / "tensorboard"))

    # ---------------- checkpoints ----------------
    def _save(self, name: str) -> None:
        if not self.is_main:
            return
        # a prefetched batch is not consumed yet: save the draw state from before it, so a resume redraws it
        draw_state = self._pending[0] if self._pending else self._draw_state()
        extra = {"step": self.step, "best": self.best, "config": self.cfg.to_dict(),
                 "optimizer": self.optimizer.state_dict(), "heads": self.heads.state_dict(),
                 **draw_state, "speakers": getattr(self.tasks, "speakers", []),
                 "torch_rng": torch.get_rng_state()}
        save_checkpoint(self.out / name, self.model, extra, tokens=self.tasks.tokens(), labels=self.tasks.labels)

    def _resume(self) -> None:
        latest = self.out / "latest.pt"
        if not latest.is_file():
            return
        model, extra = load_checkpoint(latest)
        self.model.load_state_dict(model.state_dict())
        if len(extra["optimizer"]["param_groups"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{latest} was written with {len(extra['optimizer']['param_groups'])} optimizer group(s), "
                             f"this config makes {len(self.optimizer.param_groups)} (encoder_lr_scale or "
                             "freeze_encoder changed?): resume with the run's own config, or use a new `out`")
        self.optimizer.load_state_dict(extra["optimizer"])
        self.heads.load_state_dict(extra["heads"])
        for t, s in self.samplers.items():
            s.load_state_dict(extra["samplers"][t])
        self.task_rng.setstate(_tupleize(extra["task_rng"]))
        torch.set_rng_state(extra["torch_rng"])
        self.step, self.best = int(extra["step"]), float(extra["best"])

    # ---------------- one step ----------------
    def _pick_task(self) -> str:
        tasks = list(self.samplers)
        return self.task_rng.choices(tasks, weights=[self.cfg.task_ratio[t] for t in tasks])[0]

    def _total(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.cfg.loss_scales.get(k, 1.0) * v for k, v in parts.items())

    def _draw_state(self) -> dict:
        return {"samplers": {t: copy.deepcopy(s.state_dict()) for t, s in self.samplers.items()},
                "task_rng": self.task_rng.getstate()}

    def _draw(self, for_step: int) -> dict:
        """Everything random about step ``for_step`` except the model's own: task, cuts, attention
        chunk, speed factor, SpecAugment seed; drawn in one place, in a fixed order, so resume redraws it."""
        task = self._pick_task()
        limit = None
        if task == "asr" and self.cfg.curriculum_steps and for_step < self.cfg.curriculum_steps:
            start, end = self.cfg.curriculum_start_seconds, self.cfg.max_cut_seconds
            limit = start + (end - start) * for_step / self.cfg.curriculum_steps
        plan = {"task": task, "cuts": self.samplers[task].next(limit),
                "chunk": self.task_rng.choice(self.cfg.chunk_frames_choices)}
        if task == "asr" and self.cfg.speed_perturb:
            plan["speed"] = self.task_rng.choice(self.cfg.speed_perturb)
        if self.cfg.spec_augment and self.cfg.stage == "stage2" and task in self.cfg.spec_augment_tasks:
            plan["augment_seed"] = self.task_rng.getrandbits(62)
        return plan

    def _load(self, plan: dict) -> Batch:
        batch = self.tasks.make_batch(plan["task"], plan["cuts"], self.cfg.max_cut_seconds)
        if plan.get("speed", 1.0) != 1.0:
            batch.audio, batch.num_samples = change_speed(batch.audio, batch.num_samples, plan["speed"])
        return batch

    def next_batch(self) -> tuple[Batch, dict]:
        """(batch on the device, its plan) for this step; with ``prefetch`` the next one starts loading."""
        if self._loader is None:
            plan = self._draw(self.step)
            return self._load(plan).to(self.device), plan
        if self._pending is None:
            state, plan = self._draw_state(), self._draw(self.step)
            self._pending = (state, plan, self._loader.submit(self._load, plan))
        _, plan, future = self._pending
        batch = future.result()
        state, upcoming = self._draw_state(), self._draw(self.step + 1)
        self._pending = (state, upcoming, self._loader.submit(self._load, upcoming))
        return batch.to(self.device), plan

    def train_step(self) -> tuple[dict[str, float], float]:
        batch, plan = self.next_batch()
        return self.optimise(batch, plan)

    def optimise(self, batch: Batch, plan: dict) -> tuple[dict[str, float], float]:
        """Forward, backward and one optimizer step on ``batch``."""
        for g in self.optimizer.param_groups:
            g["lr"] = lr_at(self.step, self.cfg) * g["lr_scale"]
        augment = None
        if "augment_seed" in plan:
            generator = torch.Generator().manual_seed(plan["augment_seed"])
            augment = functools.partial(SPEC_AUGMENT, generator=generator)
        parts = self.ddp(batch, plan["chunk"], augment)
        loss = self._total(parts)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]],
                                       self.cfg.grad_clip)
        self.optimizer.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in parts.items()}, float(loss.detach())

    @torch.no_grad()
    def validate(self) -> tuple[dict[str, float], float]:
        """Held-out loss per task, unscaled (comparable with the train/ parts and across loss_scales), and
        the score the best checkpoint is chosen by: the training objective, i.e. the scaled sum."""
        self.model.eval()
        result, score = {}, 0.0
        for task in self.tasks.valid_tasks:
            cuts = [c for c in self.tasks.cuts[task] if _is_valid_split(c.id)][:48]
            if not cuts or task not in self.samplers:
                continue
            plain, scaled = [], []
            for i in range(0, len(cuts), 8):
                batch = self.tasks.make_batch(task, cuts[i:i + 8], self.cfg.max_cut_seconds).to(self.device)
                parts = self.module(batch)
                plain.append(float(sum(parts.values())))
                scaled.append(float(self._total(parts)))
            result[task] = sum(plain) / len(plain)
            score += sum(scaled) / len(scaled)
        self.model.train()
        return result, score

    def run(self) -> dict:
        log = open(self.out / "log.jsonl", "a") if self.is_main else None
        bar = tqdm(total=self.cfg.steps, initial=self.step, disable=not self.is_main, desc=self.cfg.stage)
        recent: dict[str, list[float]] = {}
        start = time.perf_counter()
        stop = self.cfg.steps if not self.cfg.stop_after_steps else min(self.cfg.steps, self.step + self.cfg.stop_after_steps)
        while self.step < stop:
            parts, _ = self.train_step()
            for name, value in parts.items():
                recent.setdefault(name, []).append(value)
            bar.update(1)
            if self.is_main and self.step % self.cfg.log_every == 0:
                means = {t: sum(v) / len(v) for t, v in recent.items()}
                bar.set_postfix({t: f"{v:.3f}" for t, v in means.items()})
                entry = {"step": self.step, "lr": lr_at(self.step, self.cfg), "elapsed_s": time.perf_counter() - start,
                         **{f"train/{t}": v for t, v in means.items()}}
                log.write(json.dumps(entry) + "\n")
                log.flush()
                if self.writer:
                    for t, v in means.items():
                        self.writer.add_scalar(f"train/{t}", v, self.step)
                recent = {}
            if self.step % self.cfg.valid_every == 0 or self.step == self.cfg.steps:
                valid, score = self.validate()
                if self.is_main:
                    log.write(json.dumps({"step": self.step, **{f"valid/{t}": v for t, v in valid.items()}}) + "\n")
                    log.flush()
                    if self.writer:
                        for t, v in valid.items():
                            self.writer.add_scalar(f"valid/{t}", v, self.step)
                if not valid:  # too little data to hold any out: the latest weights are the best we know
                    self._save("best.pt")
                elif score < self.best:
                    self.best = score
                    self._save("best.pt")
            if self.step % self.cfg.save_every == 0 or self.step in (self.cfg.steps, stop):
                self._save("latest.pt")
        bar.close()
        if self._loader is not None:
            self._loader.shutdown(wait=True, cancel_futures=True)
            self._loader, self._pending = None, None
        if self.is_main and self.step >= self.cfg.steps:
            with atomic_write(self.out / "done.json", "w") as f:
                json.dump({"step": self.step, "best": self.best}, f)
        if log:
            log.close()
        if self.writer:
            self.writer.close()
        return {"step": self.step, "best": self.best}


def _is_valid_split(cut_id: str) -> bool:
    """A fixed ~5% of training cuts, chosen by id, held out for validation (best checkpoint)."""
    import zlib

    return zlib.crc32(cut_id.encode()) % 20 == 0
