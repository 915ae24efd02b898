"""The three scores of the results table, one definition each.

- WER: jiwer over normalised text (upper case, letters, apostrophes, single spaces: the corpus
  convention; digits in a hypothesis are spelled out first, so "20" scores as "TWENTY").
- mAP: sklearn ``average_precision_score`` per class, macro mean over the classes that have at
  least one positive clip (a class with none has no defined AP; the count used is returned).
- EER: from cosine scores of trial pairs, where the false-accept and false-reject rates cross
  (linear interpolation between the two ROC points that bracket the crossing).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from train.data.text import number_to_words


def _spell(n: int) -> str:
    """Whole numbers below a million in words, as the corpus spells them (train/data/text.py); larger ones
    stay digits, which normalisation then drops, as it always did."""
    return number_to_words(n) if n < 1_000_000 else str(n)


def normalize_text(text: str) -> str:
    """'He owes $20, doesn't he?' -> "HE OWES TWENTY DOESN'T HE"."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"\d+", lambda m: " " + _spell(int(m.group())) + " ", text)
    text = re.sub(r"[^A-Z' ]", " ", text.upper().replace("’", "'"))
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


def word_error_rate(refs: Sequence[str], hyps: Sequence[str], normalize: bool = True) -> float:
    """Corpus-level WER: total edits / total reference words."""
    import jiwer

    if len(refs) != len(hyps) or not refs:
        raise ValueError("need equally many (and some) references and hypotheses")
    if normalize:
        refs, hyps = [normalize_text(r) for r in refs], [normalize_text(h) for h in hyps]
    out = jiwer.process_words(list(refs), list(hyps))
    return float(out.wer)


def word_errors(refs: Sequence[str], hyps: Sequence[str]) -> dict[str, int]:
    """The edits behind the WER, by kind: (substitutions + deletions + insertions) / ref_words is the WER.
    Insertions are what push a set of one-word prompts above 100 %."""
    import jiwer

    out = jiwer.process_words([normalize_text(r) for r in refs], [normalize_text(h) for h in hyps])
    return {"substitutions": out.substitutions, "deletions": out.deletions, "insertions": out.insertions,
            "ref_words": out.substitutions + out.deletions + out.hits}


def word_error_rate_by(refs: Sequence[str], hyps: Sequence[str], groups: Sequence[str | None]) -> dict[str, float]:
    """WER per group (a voice family, a synthesiser), each over its own utterances; a ``None`` group is left
    out. Keys sorted."""
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    for ref, hyp, group in zip(refs, hyps, groups, strict=True):
        if group is not None:
            pairs.setdefault(group, ([], []))[0].append(ref)
            pairs[group][1].append(hyp)
    return {group: word_error_rate(*pairs[group]) for group in sorted(pairs)}


def mean_average_precision(y_true: np.ndarray, y_score: np.ndarray, return_classes: bool = False):
    """y_true (N, C) in {0, 1} (or soft; > 0.5 counts as positive), y_score (N, C) -> macro mAP."""
    from sklearn.metrics import average_precision_score

    y_true = (np.asarray(y_true) > 0.5).astype(int)
    keep = y_true.sum(0) > 0
    if not keep.any():
        raise ValueError("no class has a positive example")
    value = float(average_precision_score(y_true[:, keep], np.asarray(y_score)[:, keep], average="macro"))
    return (value, int(keep.sum())) if return_classes else value


def det_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (false-accept rate, false-reject rate, thresholds), thresholds rising (accept if score >= t)."""
    labels, scores = np.asarray(labels).astype(bool), np.asarray(scores, dtype=np.float64)
    if labels.all() or not labels.any():
        raise ValueError("need both target and non-target trials")
    order = np.argsort(scores, kind="mergesort")
    s, y = scores[order], labels[order]
    # threshold just above each sorted score, plus one below all: rejected = scores below threshold
    fr = np.concatenate([[0], np.cumsum(y)]) / y.sum()  # targets rejected
    fa = 1 - np.concatenate([[0], np.cumsum(~y)]) / (~y).sum()  # non-targets still accepted
    thr = np.concatenate([[-np.inf], s])
    return fa, fr, thr


def eer(labels: np.ndarray, scores: np.ndarray) -> float:
    """Equal error rate in [0, 1] (0.05 = 5 %)."""
    fa, fr, _ = det_curve(labels, scores)
    i = int(np.argmax(fr >= fa))  # first point where rejections catch up with acceptances
    if i == 0:
        return float(fa[0])
    d0, d1 = fa[i - 1] - fr[i - 1], fa[i] - fr[i]  # d0 > 0 >= d1
    w = d0 / (d0 - d1) if d0 != d1 else 0.5
    return float(fa[i - 1] + w * (fa[i] - fa[i - 1]))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def read_trials(path: str | Path) -> list[tuple[int, str, str]]:
    """sv_trials.txt lines ``<1|0> <cut id> <cut id>`` -> [(label, id1, id2)]."""
    out = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            label, a, b = line.split()
            out.append((int(label), a, b))
    return out


def trial_scores(trials: Sequence[tuple[int, str, str]], embeddings: Mapping[str, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray]:
    labels = np.array([t[0] for t in trials])
    scores = np.array([cosine(embeddings[a], embeddings[b]) for _, a, b in trials])
    return labels, scores


def eer_from_trials(trials: Sequence[tuple[int, str, str]], embeddings: Mapping[str, np.ndarray]) -> float:
    return eer(*trial_scores(trials, embeddings))


def plot_det(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> Path:
    """Save a DET plot (normal-deviate axes) of {name: (labels, scores)} to ``path`` (PNG)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    for name, (labels, scores) in curves.items():
        fa, fr, _ = det_curve(labels, scores)
        clip = lambda p: norm.ppf(np.clip(p, 5e-4, 1 - 5e-4))  # noqa: E731
        ax.plot(clip(fa), clip(fr), label=f"{name} (EER {100 * eer(labels, scores):.2f} %)")
    ax.set_xticks(norm.ppf(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{100 * t:g}" for t in ticks])
    ax.set_xlabel("false accept rate (%)")
    ax.set_ylabel("false reject rate (%)")
    ax.plot([-4, 4], [-4, 4], color="grey", lw=0.5)
    lim = norm.ppf([5e-4, 0.95])  # up to 95 %: a chance-level system (EER ~50 %) stays in view
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
