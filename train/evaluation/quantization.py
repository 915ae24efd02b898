"""int8 against fp32 on the same audio: what quantization costs, in task terms (``students --precision int8``
and the export tests compare the two forms with it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .metrics import cosine


def ctc_greedy(log_probs: np.ndarray, blank: int = 0) -> list[int]:
    """(T, V) -> token ids: best path, repeats merged, blanks dropped."""
    best = log_probs.argmax(-1)
    keep = np.ones_like(best, dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(t) for t in best[keep] if t != blank]


def edit_distance(a: list, b: list) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


@dataclass
class PrecisionReport:
    clips: int
    token_error_rate: float  # greedy CTC tokens of int8 against fp32 as reference
    top_tag_agreement: float  # clip-level top tag (mean frame probability) equal
    min_embedding_cosine: float
    mean_embedding_cosine: float
    max_abs_tag_prob_diff: float

    def as_dict(self) -> dict:
        return asdict(self)


def compare(fp32_outputs: list[dict[str, np.ndarray]], int8_outputs: list[dict[str, np.ndarray]]) -> PrecisionReport:
    errors = ref_tokens = agree = 0
    cosines, tag_diff = [], 0.0
    for ref, q in zip(fp32_outputs, int8_outputs, strict=True):
        r_tok, q_tok = ctc_greedy(ref["ctc_log_probs"]), ctc_greedy(q["ctc_log_probs"])
        errors += edit_distance(r_tok, q_tok)
        ref_tokens += len(r_tok)
        agree += int(ref["tag_probs"].mean(0).argmax() == q["tag_probs"].mean(0).argmax())
        cosines.append(cosine(ref["speaker_embedding"], q["speaker_embedding"]))
        tag_diff = max(tag_diff, float(np.abs(ref["tag_probs"] - q["tag_probs"]).max()))
    n = len(fp32_outputs)
    return PrecisionReport(n, errors / max(ref_tokens, 1), agree / n, min(cosines), float(np.mean(cosines)), tag_diff)
