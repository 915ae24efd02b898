"""Where a built corpus keeps its files, named once (train/data/README.md says what is in them).

Every reader and writer of a corpus (the builder, real corpora, stage 1 and 2, the teachers, the
evaluation, the LM) names its manifests through this module instead of spelling the pattern.
"""

from __future__ import annotations

from pathlib import Path

from mt2kd_edge.model_layout import LABELS  # noqa: F401  (the same file, in the same format, as a model's)

MANIFESTS = "manifests"  # the folder of lhotse manifests
TRIALS = "sv_trials.txt"  # speaker-verification trials: "<1|0> <cut id> <cut id>" a line


def manifest_name(kind: str, split: str, part: str = "cuts") -> str:
    """``speech_cuts_train.jsonl.gz`` and the like. ``kind``: speech, events or pool (stage 1's unlabelled
    recordings); ``part``: recordings, supervisions or cuts; ``split``: train, dev, test or realdev."""
    return f"{kind}_{part}_{split}.jsonl.gz"


def manifest_path(corpus: str | Path, kind: str, split: str, part: str = "cuts") -> Path:
    return Path(corpus) / MANIFESTS / manifest_name(kind, split, part)


POOL_CUTS = manifest_name("pool", "train")  # what stage-1 target extraction reads
