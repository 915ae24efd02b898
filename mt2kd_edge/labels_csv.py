"""labels.csv, the tag classes in sherpa-onnx's AudioTagging format: written and read here only (no torch).

A header ``index,mid,display_name``, then ``index,mid,"display name"`` a line, the name always quoted
(sherpa-onnx's own files do so, and names hold commas: "Sword, blade"). A model directory, its sherpa
folder and every corpus carry one.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

from .fileio import atomic_write

HEADER = ("index", "mid", "display_name")


def labels_csv_text(labels: Iterable[tuple[str, str]]) -> str:
    """(mid, display name) per class, in class order."""
    lines = [",".join(HEADER)] + [f'{i},{mid},"{name}"' for i, (mid, name) in enumerate(labels)]
    return "\n".join(lines) + "\n"


def write_labels_csv(path: str | os.PathLike, labels: Iterable[tuple[str, str]]) -> None:
    with atomic_write(path, "w") as f:
        f.write(labels_csv_text(labels))


def read_labels_csv(path: str | os.PathLike) -> list[tuple[str, str]]:
    """(mid, display name) per class, in file order."""
    with open(path, newline="") as f:
        return [(row["mid"], row["display_name"]) for row in csv.DictReader(f)]
