"""The statistics report: DIR/stats.json and the same numbers as Markdown in DIR/stats.md."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from mt2kd_edge.fileio import atomic_write

from .events import CLASSES


def _hours(metas: list[dict]) -> float:
    return round(sum(m["duration_s"] for m in metas) / 3600, 4)


def _event_source(meta: dict) -> str:
    if meta["kind"] == "mixture":
        return "mixture"
    if meta["generator"] == "real":
        return "real:" + meta["source"].split("/usr/share/")[0].rstrip("/").rsplit("/", 1)[-1]
    return meta["generator"]


def compute_stats(speech: dict[str, list[dict]], events: dict[str, list[dict]], build: dict) -> dict:
    out: dict = {"build": build, "speech": {}, "events": {}}
    hours_by_source: dict[str, float] = defaultdict(float)
    for split, metas in speech.items():
        by_system = Counter()
        for m in metas:
            by_system[m["speaker"]["system"]] += m["duration_s"] / 3600
            hours_by_source[f"speech:{m['speaker']['system']}"] += m["duration_s"] / 3600
        out["speech"][split] = {
            "utterances": len(metas), "hours": _hours(metas),
            "speakers": len({m["speaker"]["speaker_id"] for m in metas}),
            "real_voice_speakers": len({m["speaker"]["speaker_id"] for m in metas if m["speaker"]["system"] != "espeak"}),
            "persons": sorted({m["speaker"]["person"] for m in metas if m["speaker"]["system"] != "espeak"}),
            "sentences": len({m["sentence_id"] for m in metas}),
            "hours_by_system": {k: round(v, 4) for k, v in sorted(by_system.items())},
        }
    for split, metas in events.items():
        clips = [m for m in metas if m["kind"] == "event"]
        mixtures = [m for m in metas if m["kind"] == "mixture"]
        for m in metas:
            hours_by_source[f"events:{_event_source(m)}"] += m["duration_s"] / 3600
        per_class = Counter(m["labels"][0] for m in clips)
        in_mixtures = Counter(lab for m in mixtures for lab in m["labels"])
        out["events"][split] = {
            "clips": len(clips), "mixtures": len(mixtures), "hours": _hours(metas),
            "clips_per_class": {c.name: per_class[c.name] for c in CLASSES},
            "mixture_labels_per_class": {c.name: in_mixtures[c.name] for c in CLASSES},
            "source_files": len({s for m in clips for s in m["sources"] if s.startswith("/")}),
        }
    out["classes"] = [{"index": c.index, "mid": c.mid, "name": c.name, "kind": c.kind} for c in CLASSES]
    out["hours_by_source"] = {k: round(v, 4) for k, v in sorted(hours_by_source.items())}
    out["total_hours"] = round(sum(hours_by_source.values()), 4)
    return out


def to_markdown(stats: dict) -> str:
    b = stats["build"]
    lines = [f"# Corpus statistics: preset `{b['preset']}`, seed {b['seed']}", "",
             f"Total {stats['total_hours']:.2f} h. Built with {b['workers']} workers; "
             f"rendering took {b.get('render_seconds', 0):.0f} s ({b.get('rendered_items', 0)} items rendered this run).",
             "", "## Hours per source", "", "| source | hours |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in stats["hours_by_source"].items()]
    lines += ["", "## Speech", "", "| split | utterances | hours | speakers | real-voice speakers | sentences | persons |",
              "|---|---|---|---|---|---|---|"]
    for split, s in stats["speech"].items():
        lines.append(f"| {split} | {s['utterances']} | {s['hours']:.3f} | {s['speakers']} | {s['real_voice_speakers']} "
                     f"| {s['sentences']} | {', '.join(s['persons'])} |")
    lines += ["", f"Speaker-verification trials: {stats.get('sv_trials', {})}", "", "## Sound events", "",
              "| split | clips | mixtures | hours | real source files |", "|---|---|---|---|---|"]
    for split, e in stats["events"].items():
        lines.append(f"| {split} | {e['clips']} | {e['mixtures']} | {e['hours']:.3f} | {e['source_files']} |")
    splits = list(stats["events"])
    lines += ["", "| # | class | kind | " + " | ".join(f"{s} clips | {s} in mixtures" for s in splits) + " |",
              "|---|---|---|" + "---|---|" * len(splits)]
    for c in stats["classes"]:
        cells = " | ".join(f"{stats['events'][s]['clips_per_class'][c['name']]} | "
                           f"{stats['events'][s]['mixture_labels_per_class'][c['name']]}" for s in splits)
        lines.append(f"| {c['index']} | {c['name']} | {c['kind']} | {cells} |")
    return "\n".join(lines) + "\n"


def write_stats(out_dir: Path, stats: dict) -> None:
    with atomic_write(out_dir / "stats.json", "w") as f:
        json.dump(stats, f, indent=2, sort_keys=False)
    with atomic_write(out_dir / "stats.md", "w") as f:
        f.write(to_markdown(stats))
