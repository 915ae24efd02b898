"""Real corpora through lhotse, written in this project's manifest layout, so every recipe
(teachers, stage 1, stage 2, evaluation) reads them exactly like the built corpus.

    python -m train.data.real librispeech --corpus-dir /data/LibriSpeech --out data/librispeech
    python -m train.data.real voxceleb --corpus-dir /data/voxceleb1 --out data/voxceleb
    python -m train.data.real audioset --corpus-dir /data/audioset --out data/audioset

LibriSpeech (lhotse's recipe) gives `speech_cuts_{train,dev,test}` with transcripts and speakers plus
the unlabelled `pool_cuts_train`. VoxCeleb1 gives speaker-labelled `speech_cuts_{train,test}` and, when
`veri_test2.txt` is present, `sv_trials.txt`; it is read directly from `vox1_meta.csv` and `wav/`,
because lhotse's VoxCeleb recipe downloads its trial list at run time. AudioSet (lhotse has no recipe)
is read from the usual layout: `class_labels_indices.csv`, `balanced_train_segments.csv`,
`eval_segments.csv` and audio files named `<YTID>.wav` (or `Y<YTID>*.wav`) under `audio/`; it gives
`events_cuts_{train,test}` and `labels.csv`. Stage 2 trains on any of them with `task_ratio` set to the
tasks the corpus has. Nothing is downloaded: the corpora must already be on disk.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.labels_csv import write_labels_csv
from mt2kd_edge.spec import SAMPLE_RATE

from .layout import LABELS, TRIALS, manifest_path

LIBRISPEECH_SPLITS = {
    "train": ("train-clean-100", "train-clean-360", "train-other-500"),
    "dev": ("dev-clean",),
    "test": ("test-clean",),
}


def _write(cuts, out: Path, kind: str, split: str) -> Path:
    path = manifest_path(out, kind, split)
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
    return cuts.resample(SAMPLE_RATE)


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
        _write(cuts, out, "speech", split)
        if split == "train":  # stage 1 distils on unlabelled audio: the same recordings, no labels
            _write(cuts.drop_supervisions(), out, "pool", "train")
    if "train" not in counts:
        raise ValueError(f"{corpus_dir}: none of the training parts {LIBRISPEECH_SPLITS['train']} were found")
    return counts


def import_voxceleb(corpus_dir: Path, out: Path) -> dict[str, int]:
    corpus_dir, out = Path(corpus_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = corpus_dir / "vox1_meta.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: not found (a VoxCeleb1 directory has vox1_meta.csv and wav/)")
    split_of = {}
    for line in meta.read_text().splitlines()[1:]:
        fields = line.split("\t")
        split_of[fields[0]] = "test" if fields[-1].strip() == "test" else "train"
    items: dict[str, list] = {"train": [], "test": []}
    for wav in sorted((corpus_dir / "wav").rglob("*.wav")):
        speaker = wav.relative_to(corpus_dir / "wav").parts[0]
        cut_id = "-".join(wav.relative_to(corpus_dir / "wav").with_suffix("").parts)
        items[split_of.get(speaker, "train")].append((cut_id, wav, {"speaker": speaker}))
    counts = {}
    for split, rows in items.items():
        if rows:
            counts[split] = len(rows)
            _write(_cuts_from(rows), out, "speech", split)
    trials = corpus_dir / "veri_test2.txt"
    if trials.is_file():  # "<1|0> id/video/00001.wav id/video/00002.wav" -> our ids
        lines = []
        for line in trials.read_text().splitlines():
            label, a, b = line.split()
            lines.append(" ".join([label, *("-".join(Path(x).with_suffix("").parts) for x in (a, b))]))
        with atomic_write(out / TRIALS, "w") as f:
            f.write("\n".join(lines) + "\n")
    return counts


def _cuts_from(rows: list[tuple[str, Path, dict]]):
    """[(cut id, audio file, supervision fields)] -> 16 kHz cuts whose ids are exactly the given ids
    (trial lists refer to them), each with one whole-file supervision."""
    from lhotse import CutSet, Recording, SupervisionSegment

    cuts = []
    for cut_id, path, fields in rows:
        cut = Recording.from_file(path, recording_id=cut_id).to_cut()
        cut.supervisions = [SupervisionSegment(id=cut_id, recording_id=cut_id, start=0.0, duration=cut.duration,
                                               **fields)]
        cuts.append(cut)
    return CutSet.from_cuts(cuts).resample(SAMPLE_RATE)


def import_audioset(corpus_dir: Path, out: Path) -> dict[str, int]:
    import csv

    corpus_dir, out = Path(corpus_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = corpus_dir / "class_labels_indices.csv"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: not found (the AudioSet ontology index)")
    with open(index, newline="") as f:
        classes = [(row["mid"], row["display_name"]) for row in csv.DictReader(f)]
    name_of = dict(classes)
    audio = {p.stem.removeprefix("Y")[:11]: p for p in (corpus_dir / "audio").rglob("*.wav")}
    counts = {}
    for split, segments in (("train", "balanced_train_segments.csv"), ("test", "eval_segments.csv")):
        path = corpus_dir / segments
        if not path.is_file():
            continue
        rows = []
        for line in path.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            ytid, _start, _end, labels = [x.strip() for x in line.split(",", 3)]
            if ytid in audio:  # clips that were never downloaded are skipped
                mids = labels.strip('"').split(",")
                rows.append((f"audioset-{ytid}", audio[ytid],
                             {"custom": {"labels": [name_of[m] for m in mids if m in name_of]}}))
        if rows:
            counts[split] = len(rows)
            _write(_cuts_from(rows), out, "events", split)
    write_labels_csv(out / LABELS, classes)
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.data.real", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", choices=("librispeech", "voxceleb", "audioset"))
    p.add_argument("--corpus-dir", type=Path, required=True, help="where the corpus already is")
    p.add_argument("--out", type=Path, required=True, help="output directory (manifests/ goes inside)")
    args = p.parse_args(argv)
    try:
        fn = {"librispeech": import_librispeech, "voxceleb": import_voxceleb, "audioset": import_audioset}[args.corpus]
        counts = fn(args.corpus_dir, args.out)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.corpus}: " + ", ".join(f"{k} {v} cuts" for k, v in counts.items()) + f" -> {args.out}/manifests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
