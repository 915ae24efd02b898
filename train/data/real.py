"""Real corpora through lhotse, written in this project's manifest layout, so every recipe
(teachers, stage 1, stage 2, evaluation) reads them exactly like the built corpus.

    python -m train.data.real librispeech --corpus-dir /data/LibriSpeech --out data/librispeech
    python -m train.data.real voxceleb --corpus-dir /data/voxceleb1 --out data/voxceleb

LibriSpeech gives `speech_cuts_{train,dev,test}` (transcripts and speakers) plus the unlabelled
`pool_cuts_train`; VoxCeleb1 gives speaker-labelled `speech_cuts_{train,test}` (no transcripts).
Nothing is downloaded: the corpora must already be on disk.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LIBRISPEECH_SPLITS = {
    "train": ("train-clean-100", "train-clean-360", "train-other-500"),
    "dev": ("dev-clean",),
    "test": ("test-clean",),
}


def _write(cuts, out: Path, name: str) -> Path:
    path = out / "manifests" / f"{name}.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.jsonl.gz")
    cuts.to_file(tmp)
    tmp.replace(path)  # atomic
    return path


def _cuts(manifests: dict, parts: tuple[str, ...]):
    from lhotse import CutSet

    sets = [CutSet.from_manifests(recordings=manifests[p]["recordings"], supervisions=manifests[p]["supervisions"])
            for p in parts if p in manifests]
    if not sets:
        return None
    cuts = sets[0]
    for more in sets[1:]:
        cuts = cuts + more
    return cuts.resample(16000)


def import_librispeech(corpus_dir: Path, out: Path) -> dict[str, int]:
    from lhotse.recipes import prepare_librispeech

    if not Path(corpus_dir).is_dir():
        raise FileNotFoundError(f"{corpus_dir}: LibriSpeech directory not found")
    manifests = prepare_librispeech(corpus_dir, dataset_parts="auto")
    counts = {}
    for split, parts in LIBRISPEECH_SPLITS.items():
        cuts = _cuts(manifests, parts)
        if cuts is None:
            continue
        counts[split] = len(cuts)
        _write(cuts, out, f"speech_cuts_{split}")
        if split == "train":  # stage 1 distils on unlabelled audio: the same recordings, no labels
            _write(cuts.drop_supervisions(), out, "pool_cuts_train")
    if "train" not in counts:
        raise ValueError(f"{corpus_dir}: none of the training parts {LIBRISPEECH_SPLITS['train']} were found")
    return counts


def import_voxceleb(corpus_dir: Path, out: Path) -> dict[str, int]:
    from lhotse.recipes import prepare_voxceleb

    if not Path(corpus_dir).is_dir():
        raise FileNotFoundError(f"{corpus_dir}: VoxCeleb1 directory not found")
    manifests = prepare_voxceleb(voxceleb1_root=corpus_dir)
    counts = {}
    for split, part in (("train", "dev"), ("test", "test")):
        cuts = _cuts(manifests, (part,))
        if cuts is not None:
            counts[split] = len(cuts)
            _write(cuts, out, f"speech_cuts_{split}")
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.data.real", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", choices=("librispeech", "voxceleb"))
    p.add_argument("--corpus-dir", type=Path, required=True, help="where the corpus already is")
    p.add_argument("--out", type=Path, required=True, help="output directory (manifests/ goes inside)")
    args = p.parse_args(argv)
    try:
        fn = import_librispeech if args.corpus == "librispeech" else import_voxceleb
        counts = fn(args.corpus_dir, args.out)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.corpus}: " + ", ".join(f"{k} {v} cuts" for k, v in counts.items()) + f" -> {args.out}/manifests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
