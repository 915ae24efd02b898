#!/usr/bin/env bash
# `make demo`: the bundled model (models/default) on the bundled demo clip, through the C++ runtime.
# Two held-out speakers ("alan" and "ken", enrolled from other recordings of theirs) take turns while a
# dog, a piano and a siren play; the runtime prints the transcript, the sound events and who is speaking.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-models/default}
DEMO="$MODEL/demo"
if [ ! -f "$MODEL/manifest.json" ]; then
  echo "error: $MODEL is missing; it ships with the repository (git checkout -- models) or is rebuilt by 'make model'" >&2
  exit 2
fi

echo "== streaming $DEMO/clip.wav through $MODEL (ExecuTorch int8, C++ core), paced like a live microphone"
.venv/bin/mt2kd-edge run --model "$MODEL" --speakers "$DEMO/speakers.json" --realtime "$DEMO/clip.wav"

echo
echo "== what the clip really contains ($DEMO/demo.json)"
.venv/bin/python - "$DEMO/demo.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
for t in info["turns"]:
    print(f"[{t['start_s']:7.2f} - {t['end_s']:7.2f}] {t['speaker']:>10}: {t['text'].lower()}")
for e in info["events"]:
    print(f"[{e['start_s']:7.2f} - {e['end_s']:7.2f}] {'tag':>10}: {e['label']}")
PY
