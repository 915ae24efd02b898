"""int8 against fp32 on the same audio: what quantization costs, in task terms (``students --compare fp32``
and the export tests compare the two forms with it).

Each side is one dict per clip, either what the runtime gave (``students``: ``tokens``, the greedy CTC ids of
the C++ decoder; ``tag_scores``, the clip's per-class scores; ``speaker_embedding``) or a stepped stream's
outputs (``mt2kd_edge.stepping.stream``: ``ctc_log_probs`` and ``tag_probs`` per frame, decoded here by the
same C++ decoder)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .metrics import cosine


def greedy_tokens(log_probs: np.ndarray) -> list[int]:
    """(T, V) -> token ids by the runtime's own CTC decoder, greedy (beam 1; blank = 0)."""
    from mt2kd_edge import _core

    config = _core.DecodingConfig()
    config.beam_size = 1
    decoder = _core.CtcDecoder(config)
    decoder.accept(np.ascontiguousarray(log_probs, dtype=np.float32))
    return [t.id for t in decoder.final()]


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
    max_abs_tag_prob_diff: float  # per frame for stepped outputs; of the clip scores for the runtime's

    def as_dict(self) -> dict:
        return asdict(self)


def _tokens(out: dict) -> list[int]:
    return out["tokens"] if "tokens" in out else greedy_tokens(out["ctc_log_probs"])


def _clip_tags(out: dict) -> np.ndarray:
    return out["tag_scores"] if "tag_scores" in out else out["tag_probs"].mean(0)


def compare(fp32_outputs: list[dict[str, np.ndarray]], int8_outputs: list[dict[str, np.ndarray]]) -> PrecisionReport:
    errors = ref_tokens = agree = 0
    cosines, tag_diff = [], 0.0
    for ref, q in zip(fp32_outputs, int8_outputs, strict=True):
        r_tok, q_tok = _tokens(ref), _tokens(q)
        errors += edit_distance(r_tok, q_tok)
        ref_tokens += len(r_tok)
        agree += int(_clip_tags(ref).argmax() == _clip_tags(q).argmax())
        cosines.append(cosine(ref["speaker_embedding"], q["speaker_embedding"]))
        key = "tag_probs" if "tag_probs" in ref and "tag_probs" in q else "tag_scores"
        tag_diff = max(tag_diff, float(np.abs(ref[key] - q[key]).max()))
    n = len(fp32_outputs)
    return PrecisionReport(n, errors / max(ref_tokens, 1), agree / n, min(cosines), float(np.mean(cosines)), tag_diff)
