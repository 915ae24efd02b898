"""In-project single-task teachers: one non-causal encoder, three tasks, one trainer.

- ``tag``: audio tagging (the default AT teacher): attention-pooled clip logits, BCE, mixup,
  SpecAugment, class-balanced sampling, random crops.
- ``ctc``: character CTC ASR (blank, space, apostrophe, A-Z), greedy decoding for WER.
- ``speaker``: speaker classification over the training speakers; the embedding (stats pooling +
  Linear) is the teacher target, scored by EER on trials.

The encoder sees the whole clip (full self-attention, no chunking, no cache): a teacher need not
stream. Kaldi fbank from the project front-end (offline), global mean/variance normalisation,
conv subsampling (4x or 8x; tagging needs no 25 Hz detail, so 8x halves its cost), sinusoidal
positions, pre-norm Transformer layers (PyTorch's fused kernels). Checkpoints carry their config:
``{"config", "model_state_dict", "norm", "vocab"}``, resumable with optimiser and RNG state.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mt2kd_edge.labels_csv import read_labels_csv
from mt2kd_edge.model.frontend import KaldiFbank
from train.data.layout import LABELS, TRIALS, manifest_path
from train.lr_schedule import warmup_cosine

from .base import TargetKind, TargetSpec, as_mono_float32

TASKS = ("tag", "ctc", "speaker")
CTC_VOCAB = ("<blk>", " ", "'", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # the corpus transcript alphabet
FBANK_RATE_HZ = 100  # Kaldi 10 ms shift


@dataclass(frozen=True)
class EncoderConfig:
    num_mel_bins: int = 80
    subsampling: int = 16  # 4, 8 or 16 fbank frames per encoder frame (stride-2 convs); clip tagging
    # needs no 25 Hz detail, and 6.25 Hz frames cut the cost of a 17.9M-parameter model 4x
    conv_channels: int = 32  # light subsampling, as in the student
    d_model: int = 384
    num_layers: int = 10
    num_heads: int = 6
    ff_dim: int = 1536
    dropout: float = 0.0  # mask generation is costly on CPU; mixup + SpecAugment regularise


@dataclass(frozen=True)
class TrainConfig:
    task: str = "tag"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    embed_dim: int = 256  # speaker task: embedding width
    batch_size: int = 16
    crop_s: float = 3.0  # random crop per example (0 = whole clips)
    max_steps: int = 700  # ~25 min on 2 shared CPU cores (see reports/teachers.md)
    lr: float = 5e-4
    warmup_steps: int = 70
    weight_decay: float = 0.05
    mixup_prob: float = 0.5  # tag only: chance a batch is mixed
    mixup_alpha: float = 10.0  # lambda ~ Beta(alpha, alpha)
    specaug_freq_masks: int = 2
    specaug_freq_width: int = 15  # bins
    specaug_time_masks: int = 2
    specaug_time_frac: float = 0.1  # max width of a time mask, as a fraction of the crop
    balanced: bool = True  # tag only: sample clips by inverse class frequency
    eval_every: int = 250
    ckpt_every: int = 50
    log_every: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.encoder.subsampling not in (4, 8, 16):
            raise ValueError("subsampling must be 4, 8 or 16")
        if self.task == "ctc" and self.encoder.subsampling != 4:
            raise ValueError("ctc needs subsampling 4: 25 Hz frames outnumber the characters, 12.5 Hz may not")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return cls(**{**d, "encoder": EncoderConfig(**d["encoder"])})


def tiny_train_config(task: str = "tag", **kw: Any) -> TrainConfig:
    """For tests: a ~50k-parameter model that learns in seconds."""
    enc = EncoderConfig(subsampling=4 if task == "ctc" else 8, conv_channels=8, d_model=32, num_layers=2,
                        num_heads=2, ff_dim=64)
    base = TrainConfig(task=task, encoder=enc, embed_dim=16, batch_size=8, crop_s=2.0, max_steps=40, lr=3e-3,
                       warmup_steps=5, mixup_prob=0.0, eval_every=10**9, ckpt_every=20, log_every=10)
    return replace(base, **kw)


# ----------------------------------------------------------------------------- model
class Subsampling(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        n, c, f = int(math.log2(cfg.subsampling)), cfg.conv_channels, cfg.num_mel_bins
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [nn.Conv2d(1 if i == 0 else c, c, 3, stride=2, padding=1), nn.ReLU()]
            f = (f + 1) // 2
        self.conv = nn.Sequential(*layers)
        self.out = nn.Linear(c * f, cfg.d_model)
        self.factor = cfg.subsampling

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, ceil(T / factor), D)
        y = self.conv(x[:, None])  # (B, C, T', F')
        b, c, t, f = y.shape
        return self.out(y.permute(0, 2, 1, 3).reshape(b, t, c * f))


def sinusoid(t: int, d: int, device: torch.device) -> torch.Tensor:
    pos = torch.arange(t, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(t, d, device=device)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class NonCausalEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.subsampling = Subsampling(cfg)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.num_heads, cfg.ff_dim, cfg.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, cfg.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """feats (B, T, F) normalised fbank, feat_lens (B,) -> enc (B, T', D), mask (B, T') True = real."""
        x = self.subsampling(feats)
        lens = (feat_lens + self.cfg.subsampling - 1) // self.cfg.subsampling
        mask = torch.arange(x.shape[1], device=x.device)[None] < lens[:, None]
        x = x + sinusoid(x.shape[1], x.shape[2], x.device)
        return self.norm(self.layers(x, src_key_padding_mask=~mask)), mask


class SingleTaskModel(nn.Module):
    def __init__(self, cfg: TrainConfig, num_outputs: int) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.encoder.d_model
        self.encoder = NonCausalEncoder(cfg.encoder)
        if cfg.task == "tag":
            self.cla = nn.Linear(d, num_outputs)  # per-frame class logits
            self.att = nn.Linear(d, num_outputs)  # per-frame, per-class pooling weights
        elif cfg.task == "ctc":
            self.out = nn.Linear(d, num_outputs)
        else:
            self.embed = nn.Linear(2 * d, cfg.embed_dim)
            self.classifier = nn.Linear(cfg.embed_dim, num_outputs)

    def forward(self, feats: torch.Tensor, feat_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> tag: clip logits (B, C); ctc: log-probs (B, T', V); speaker: embedding (B, E). Plus mask."""
        enc, mask = self.encoder(feats, feat_lens)
        if self.cfg.task == "tag":
            att = self.att(enc).masked_fill(~mask[..., None], -1e4).softmax(dim=1)
            return (att * self.cla(enc)).sum(1), mask
        if self.cfg.task == "ctc":
            return self.out(enc).log_softmax(-1), mask
        w = mask[..., None].float()
        mean = (enc * w).sum(1) / w.sum(1).clamp(min=1)
        std = (((enc - mean[:, None]) ** 2 * w).sum(1) / w.sum(1).clamp(min=1)).clamp(min=1e-6).sqrt()
        return self.embed(torch.cat([mean, std], -1)), mask


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- data
@dataclass
class Example:
    cut_id: str
    feats: torch.Tensor  # (T, 80) float16 fbank
    target: Any  # tag: (C,) float multi-hot; ctc: list[int]; speaker: int


def _fbank(audio: np.ndarray, frontend: KaldiFbank) -> torch.Tensor:
    with torch.no_grad():
        return frontend.offline(torch.from_numpy(as_mono_float32(audio))[None])[0]


def read_labels(corpus_dir: Path) -> list[str]:
    return [name for _, name in read_labels_csv(corpus_dir / LABELS)]


def cut_path(corpus_dir: Path, kind: str, split: str) -> Path:
    return manifest_path(corpus_dir, kind, split)


def load_examples(corpus_dir: Path, task: str, split: str, vocab: list[str] | None = None,
                  limit: int | None = None) -> tuple[list[Example], list[str]]:
    """Fbank + targets of one split, in memory. Returns (examples, vocab); ``vocab`` is the class
    names (tag), the CTC symbols, or the speaker ids (speaker; pass the training list for test)."""
    from lhotse import CutSet

    kind = "events" if task == "tag" else "speech"
    cuts = list(CutSet.from_file(cut_path(corpus_dir, kind, split)))[:limit]
    if task == "tag":
        vocab = read_labels(corpus_dir)
    elif task == "ctc":
        vocab = list(CTC_VOCAB)
    elif vocab is None:
        vocab = sorted({c.supervisions[0].speaker for c in cuts})
    index = {v: i for i, v in enumerate(vocab)}
    frontend, out = KaldiFbank(), []
    for c in cuts:
        sup = c.supervisions[0]
        if task == "tag":
            target = torch.zeros(len(vocab))
            target[[index[label] for label in sup.custom["labels"]]] = 1.0
        elif task == "ctc":
            target = [index[ch] for ch in sup.text]
        else:
            target = index.get(sup.speaker, -1)
        out.append(Example(c.id, _fbank(c.load_audio(), frontend).half(), target))
    return out, vocab


def balanced_weights(examples: list[Example]) -> np.ndarray:
    """Per-example sampling weight: mean inverse frequency of its classes."""
    y = torch.stack([e.target for e in examples]).numpy()
    inv = 1.0 / np.maximum(y.sum(0), 1.0)
    w = (y * inv).sum(1) / np.maximum(y.sum(1), 1.0)
    return w / w.sum()


def spec_augment(x: torch.Tensor, length: int, cfg: TrainConfig, rng: random.Random) -> torch.Tensor:
    """In place on one (T, F) normalised example (0 = the mean)."""
    for _ in range(cfg.specaug_freq_masks):
        w = rng.randint(0, cfg.specaug_freq_width)
        f0 = rng.randint(0, x.shape[1] - w)
        x[:, f0 : f0 + w] = 0.0
    for _ in range(cfg.specaug_time_masks):
        w = rng.randint(0, max(1, int(cfg.specaug_time_frac * length)))
        t0 = rng.randint(0, max(0, length - w))
        x[t0 : t0 + w] = 0.0
    return x


def make_batch(examples: list[Example], idx: list[int], cfg: TrainConfig, norm: tuple[torch.Tensor, torch.Tensor],
               rng: random.Random, train: bool) -> tuple[torch.Tensor, torch.Tensor, Any]:
    crop = int(cfg.crop_s * FBANK_RATE_HZ) if (train and cfg.crop_s > 0) else 10**9
    mean, std = norm
    feats = []
    for i in idx:
        x = examples[i].feats
        if x.shape[0] > crop:
            t0 = rng.randint(0, x.shape[0] - crop)
            x = x[t0 : t0 + crop]
        x = (x.float() - mean) / std
        feats.append(spec_augment(x.clone(), x.shape[0], cfg, rng) if train else x)
    lens = torch.tensor([f.shape[0] for f in feats])
    batch = nn.utils.rnn.pad_sequence(feats, batch_first=True)
    if cfg.task == "tag":
        targets: Any = torch.stack([examples[i].target for i in idx])
    elif cfg.task == "ctc":
        targets = [torch.tensor(examples[i].target) for i in idx]
    else:
        targets = torch.tensor([examples[i].target for i in idx])
    return batch, lens, targets


def fbank_norm(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.cat([e.feats.float() for e in examples[:2000]])
    return x.mean(0), x.std(0).clamp(min=1e-3)


# ----------------------------------------------------------------------------- training
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


def lr_at(step: int, cfg: TrainConfig) -> float:
    return warmup_cosine(step, cfg.lr, cfg.warmup_steps, cfg.max_steps, LR_FLOOR)


def save_checkpoint(path: Path, model: SingleTaskModel, opt: torch.optim.Optimizer | None, step: int,
                    norm: tuple[torch.Tensor, torch.Tensor], vocab: list[str], rng: random.Random,
                    extra: dict[str, Any] | None = None) -> None:
    ckpt = {"config": model.cfg.to_dict(), "model_state_dict": model.state_dict(), "norm": norm,
            "vocab": vocab, "step": step, "extra": extra or {}}
    if opt is not None:
        ckpt.update(optimizer=opt.state_dict(), rng=rng.getstate(), torch_rng=torch.get_rng_state())
    tmp = path.with_suffix(".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)  # atomic: an interrupted save never leaves a broken checkpoint


def load_model(path: str | Path) -> tuple[SingleTaskModel, dict[str, Any]]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = SingleTaskModel(TrainConfig.from_dict(ckpt["config"]), len(ckpt["vocab"]))
    model.load_state_dict(ckpt["model_state_dict"])
    return model.eval(), ckpt


def train(cfg: TrainConfig, corpus_dir: Path, out_dir: Path, train_split: str | None = None,
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
    (out_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
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


@torch.no_grad()
def predict(model: SingleTaskModel, examples: list[Example], norm: tuple[torch.Tensor, torch.Tensor],
            batch_size: int = 16) -> list[Any]:
    """Per example: tag (C,) probabilities; ctc list of symbol ids (greedy); speaker (E,) embedding."""
    model.eval()
    cfg, rng, out = model.cfg, random.Random(0), []
    order = sorted(range(len(examples)), key=lambda i: examples[i].feats.shape[0])  # little padding
    results: dict[int, Any] = {}
    for s in range(0, len(order), batch_size):
        idx = order[s : s + batch_size]
        feats, lens, _ = make_batch(examples, idx, cfg, norm, rng, train=False)
        y, mask = model(feats, lens)
        for j, i in enumerate(idx):
            if cfg.task == "tag":
                results[i] = torch.sigmoid(y[j]).numpy()
            elif cfg.task == "ctc":
                ids = y[j, : int(mask[j].sum())].argmax(-1).tolist()
                results[i] = [a for k, a in enumerate(ids) if a != 0 and (k == 0 or a != ids[k - 1])]
            else:
                results[i] = y[j].numpy()
    out = [results[i] for i in range(len(examples))]
    return out


def evaluate(model: SingleTaskModel, corpus_dir: Path, norm: tuple[torch.Tensor, torch.Tensor],
             vocab: list[str], limit: int | None = None) -> dict[str, float]:
    """Held-out score with the shared evaluation code: tag mAP (events test), ctc WER (speech dev),
    speaker EER (sv_trials.txt over speech test)."""
    from train.evaluation import metrics

    task = model.cfg.task
    if task == "tag":
        ex, _ = load_examples(corpus_dir, "tag", "test", limit=limit)
        probs = np.stack(predict(model, ex, norm))
        return {"mAP": metrics.mean_average_precision(torch.stack([e.target for e in ex]).numpy(), probs),
                "clips": len(ex)}
    if task == "ctc":
        ex, _ = load_examples(corpus_dir, "ctc", "dev", limit=limit)
        hyps = ["".join(vocab[i] for i in ids) for ids in predict(model, ex, norm)]
        refs = ["".join(vocab[i] for i in e.target) for e in ex]
        return {"WER": metrics.word_error_rate(refs, hyps), "utterances": len(ex)}
    ex, _ = load_examples(corpus_dir, "speaker", "test", vocab=vocab, limit=limit)
    emb = dict(zip([e.cut_id for e in ex], predict(model, ex, norm)))
    trials = [t for t in metrics.read_trials(corpus_dir / TRIALS) if t[1] in emb and t[2] in emb]
    return {"EER": metrics.eer_from_trials(trials, emb), "trials": len(trials)}


# ----------------------------------------------------------------------------- as a teacher
class SingleTaskTeacher:
    """A trained in-project teacher behind the ``Teacher`` interface: tag -> clip probabilities,
    speaker -> embedding, ctc -> 25 Hz (or 12.5 Hz) encoder frames."""

    def __init__(self, checkpoint: str | Path, name: str | None = None) -> None:
        self.model, ckpt = load_model(checkpoint)
        self.norm, self.vocab = ckpt["norm"], ckpt["vocab"]
        self.frontend = KaldiFbank()
        cfg = self.model.cfg
        if cfg.task == "tag":
            self.spec = TargetSpec(name or "tagger", TargetKind.CLIP_PROBS, len(self.vocab),
                                   description=f"in-project AT teacher {Path(checkpoint).name}")
        elif cfg.task == "speaker":
            self.spec = TargetSpec(name or "speaker", TargetKind.EMBEDDING, cfg.embed_dim,
                                   description=f"in-project speaker teacher {Path(checkpoint).name}")
        else:
            self.spec = TargetSpec(name or "asr", TargetKind.FRAMES, cfg.encoder.d_model,
                                   FBANK_RATE_HZ / cfg.encoder.subsampling,
                                   description=f"in-project CTC teacher {Path(checkpoint).name}")

    @torch.no_grad()
    def __call__(self, audio: np.ndarray) -> np.ndarray:
        feats = ((_fbank(audio, self.frontend) - self.norm[0]) / self.norm[1])[None]
        lens = torch.tensor([feats.shape[1]])
        if self.model.cfg.task == "ctc":
            enc, _ = self.model.encoder(feats, lens)
            from .base import fit_frames
            return fit_frames(enc[0].numpy(), self.spec.num_frames(len(audio)))
        y, _ = self.model(feats, lens)
        y = torch.sigmoid(y) if self.model.cfg.task == "tag" else nn.functional.normalize(y, dim=-1)
        return y[0].numpy().astype(np.float32)
