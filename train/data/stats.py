"""The statistics report: DIR/stats.json and the same numbers as Markdown in DIR/stats.md."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from mt2kd_edge.fileio import atomic_write

from .events import CLASSES
from .voices import FAMILIES


def _hours(metas: list[dict]) -> float:
    return round(sum(m["duration_s"] for m in metas) / 3600, 4)


def _event_source(meta: dict) -> str:
    if meta["kind"] == "mixture":
        return "mixture"
    if meta["generator"] == "real":
        return "real:" + meta["source"].split("/usr/share/")[0].rstrip("/").rsplit("/", 1)[-1]
    return meta["generator"]


def _check_stats(checks: list[dict], verdicts: dict[str, dict]) -> dict:
    """Per system: utterances checked and dropped, mean Whisper base WER, speakers auditioned and dropped."""
    by_system: dict[str, dict] = defaultdict(lambda: {"checked": 0, "dropped": 0, "wer_sum": 0.0})
    for meta in checks:
        row = by_system[meta["speaker"]["system"]]
        row["checked"] += 1
        row["dropped"] += bool(meta.get("dropped"))
        row["wer_sum"] += meta["check"]["wer"]
    system_of = {m["speaker"]["speaker_id"]: m["speaker"]["system"] for m in checks}
    for spk, verdict in verdicts.items():
        row = by_system[system_of[spk]]
        row["speakers_auditioned"] = row.get("speakers_auditioned", 0) + 1
        row["speakers_dropped"] = row.get("speakers_dropped", 0) + (not verdict["kept"])
    return {system: {"checked": r["checked"], "dropped": r["dropped"],
                     "mean_wer": round(r["wer_sum"] / max(1, r["checked"]), 4),
                     "speakers_auditioned": r.get("speakers_auditioned", 0),
                     "speakers_dropped": r.get("speakers_dropped", 0)} for system, r in sorted(by_system.items())}


def compute_stats(speech: dict[str, list[dict]], events: dict[str, list[dict]], build: dict,
                  checks: list[dict] = (), verdicts: dict[str, dict] | None = None, parts: dict | None = None) -> dict:
    out: dict = {"build": build, "speech": {}, "events": {}}
    hours_by_source: dict[str, float] = defaultdict(float)
    for split, metas in speech.items():
        by_system, by_family = Counter(), Counter()
        speakers_by_family: dict[str, set] = defaultdict(set)
        for m in metas:
            by_system[m["speaker"]["system"]] += m["duration_s"] / 3600
            by_family[m["family"]] += m["duration_s"] / 3600
            speakers_by_family[m["family"]].add(m["speaker"]["speaker_id"])
            hours_by_source[f"speech:{m['speaker']['system']}"] += m["duration_s"] / 3600
        out["speech"][split] = {
            "utterances": len(metas), "hours": _hours(metas),
            "speakers": len({m["speaker"]["speaker_id"] for m in metas}),
            "real_voice_speakers": len({m["speaker"]["speaker_id"] for m in metas if m["speaker"]["system"] != "espeak"}),
            "persons": sorted({m["speaker"]["person"] for m in metas if m["speaker"]["system"] != "espeak"}),
            "sentences": len({m["sentence_id"] for m in metas}),
            "hours_by_system": {k: round(v, 4) for k, v in sorted(by_system.items())},
            "hours_by_family": {k: round(v, 4) for k, v in sorted(by_family.items())},
            "speakers_by_family": {k: len(v) for k, v in sorted(speakers_by_family.items())},
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
    out["transcript_check"] = _check_stats(list(checks), verdicts or {})
    out["parts"] = parts or {}
    return out


def to_markdown(stats: dict) -> str:
    b = stats["build"]
    partial = "" if b.get("complete", True) else " (PARTIAL: manifests of what was rendered so far)"
    if "speech_limit" in b:
        offset = f", training utterances from offset {b['speech_offset']} of the plan" if b.get("speech_offset") else ""
        partial = f" (PARTIAL: speech limited to {b['speech_limit']} utterances beyond the auditions{offset})"
    lines = [f"# Corpus statistics: preset `{b['preset']}`, seed {b['seed']}{partial}", "",
             f"Total {stats['total_hours']:.2f} h. Built with {b['workers']} workers; "
             f"rendering took {b.get('render_seconds', 0):.0f} s ({b.get('rendered_items', 0)} items rendered this run).",
             "", "## Hours per source", "", "| source | hours |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in stats["hours_by_source"].items()]
    lines += ["", "## Speech", "", "| split | utterances | hours | speakers | real-voice speakers | sentences | persons |",
              "|---|---|---|---|---|---|---|"]
    for split, s in stats["speech"].items():
        lines.append(f"| {split} | {s['utterances']} | {s['hours']:.3f} | {s['speakers']} | {s['real_voice_speakers']} "
                     f"| {s['sentences']} | {', '.join(s['persons'])} |")
    lines += ["", "Hours (speakers) per voice family:", "", "| split | " + " | ".join(FAMILIES) + " |",
              "|---|" + "---|" * len(FAMILIES)]
    for split, s in stats["speech"].items():
        lines.append(f"| {split} | " + " | ".join(f"{s['hours_by_family'].get(f, 0):.2f} ({s['speakers_by_family'].get(f, 0)})"
                                                  for f in FAMILIES) + " |")
    lines += ["", "## Transcript check (Whisper base on the clean synthesis)", "",
              "| system | utterances checked | dropped | mean WER | speakers auditioned | speakers dropped |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {system} | {c['checked']} | {c['dropped']} | {100 * c['mean_wer']:.1f} % | {c['speakers_auditioned']} "
              f"| {c['speakers_dropped']} |" for system, c in stats["transcript_check"].items()]
    lines += ["", "## Time per part (all runs of the build)", "", "| part | items | rendered | seconds |", "|---|---|---|---|"]
    lines += [f"| {name} | {p.get('items', 0)} | {p['rendered_items']} | {p['seconds']:.0f} |"
              for name, p in stats["parts"].items()]
    if stats.get("realdev"):
        r = stats["realdev"]
        lines += ["", f"Recorded human speech, split `realdev` (evaluation only, never training): {r['items']} clips, "
                      f"{r['minutes']:.1f} min, {r['speakers']} speaker groups; "
                  + ", ".join(f"{src} {row['items']}" for src, row in r["per_source"].items()) + "."]
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
