"""Training a single-task teacher: its loss, lr schedule and resumable loop (logs, ``last.pt``, ``model.pt``)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mt2kd_edge.fileio import atomic_write_text
from train.lr_schedule import warmup_cosine

from .batches import make_batch
from .checkpoint import save_checkpoint
from .config import FBANK_RATE_HZ, SingleTaskConfig
from .examples import balanced_weights, fbank_norm, load_examples
from .model import SingleTaskModel, num_parameters
from .scoring import evaluate


def compute_loss(model: SingleTaskModel, feats: torch.Tensor, lens: torch.Tensor, targets: Any) -> torch.Tensor:
    out, mask = model(feats, lens)
    task = model.cfg.task
    if task == "tag":
        return nn.functional.binary_cross_entropy_with_logits(out, targets)
    if task == "ctc":
        target_lens = torch.tensor([len(t) for t in targets])
        return nn.functional.ctc_loss(out.transpose(0, 1), torch.cat(targets), mask.sum(1), target_lens,
                                      blank=0, reduction="mean", zero_infinity=True)
    return nn.functional.cross_entropy(model.classifier(out), targets)


LR_FLOOR = 0.02  # the teachers' schedule ends at this fraction of the peak lr


def lr_at(step: int, cfg: SingleTaskConfig) -> float:
    return warmup_cosine(step, cfg.lr, cfg.warmup_steps, cfg.max_steps, LR_FLOOR)


def train(cfg: SingleTaskConfig, corpus_dir: Path, out_dir: Path, train_split: str | None = None,
          limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Train (or resume) a single-task teacher into ``out_dir``: ``last.pt`` (resumable), ``model.pt``
    (final), ``train.log`` (one JSON line per log step), ``config.json``. Returns a summary."""
    from tqdm import tqdm

    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    split = train_split or "train"
    examples, vocab = load_examples(corpus_dir, cfg.task, split, limit=limit)
    if cfg.task == "speaker":
        examples = [e for e in examples if e.target >= 0]
    norm = fbank_norm(examples)
    model = SingleTaskModel(cfg, len(vocab))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    step, last = 0, out_dir / "last.pt"
    if last.exists():  # resume
        ckpt = torch.load(last, map_location="cpu", weights_only=False)
        if ckpt["config"] != cfg.to_dict():
            raise ValueError(f"{last} was made with another config; use a fresh --out or the same config")
        model.load_state_dict(ckpt["model_state_dict"])
        opt.load_state_dict(ckpt["optimizer"])
        rng.setstate(ckpt["rng"])
        torch.set_rng_state(ckpt["torch_rng"])
        step, norm = ckpt["step"], ckpt["norm"]
    atomic_write_text(out_dir / "config.json", json.dumps(cfg.to_dict(), indent=2))
    weights = balanced_weights(examples) if (cfg.task == "tag" and cfg.balanced) else None
    np_rng = np.random.default_rng(cfg.seed + step)
    log = open(out_dir / "train.log", "a")
    bar = tqdm(total=cfg.max_steps, initial=step, desc=f"train {cfg.task}", disable=not progress, unit="step")
    model.train()
    t0, audio_s, losses = time.time(), 0.0, []
    while step < cfg.max_steps:
        idx = np_rng.choice(len(examples), cfg.batch_size, replace=weights is not None or cfg.batch_size > len(examples),
                            p=weights).tolist()
        feats, lens, targets = make_batch(examples, idx, cfg, norm, rng, train=True)
        if cfg.task == "tag" and rng.random() < cfg.mixup_prob:
            lam = float(np_rng.beta(cfg.mixup_alpha, cfg.mixup_alpha))
            perm = torch.randperm(feats.shape[0])
            feats = lam * feats + (1 - lam) * feats[perm]
            lens = torch.maximum(lens, lens[perm])
            targets = lam * targets + (1 - lam) * targets[perm]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        loss = compute_loss(model, feats, lens, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        audio_s += float(lens.sum()) / FBANK_RATE_HZ
        losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            rec = {"step": step, "loss": float(np.mean(losses[-cfg.log_every:])), "lr": lr_at(step - 1, cfg),
                   "audio_s_per_s": audio_s / (time.time() - t0), "time": time.time()}
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % cfg.ckpt_every == 0 or step == cfg.max_steps:
            save_checkpoint(last, model, opt, step, norm, vocab, rng)
        if step % cfg.eval_every == 0 and step < cfg.max_steps:
            rec = {"step": step, "eval": evaluate(model, corpus_dir, norm, vocab)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            model.train()
    bar.close()
    model.eval()
    summary = {"task": cfg.task, "steps": step, "parameters": num_parameters(model), "first_losses": losses[:5],
               "last_losses": losses[-5:], "train_audio_s_per_s": audio_s / max(1e-9, time.time() - t0)}
    save_checkpoint(out_dir / "model.pt", model, None, step, norm, vocab, rng, extra=summary)
    log.close()
    return summary
