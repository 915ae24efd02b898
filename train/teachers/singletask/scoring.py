"""A teacher's predictions and its held-out score, with the shared evaluation code (mAP, WER, EER)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from train.data.layout import TRIALS

from .batches import make_batch
from .examples import Example, load_examples
from .model import SingleTaskModel


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
