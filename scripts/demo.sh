#!/usr/bin/env bash
# `make demo`: the best end-to-end path that exists until a trained default model is bundled.
#   1. streams audio through the torch model and checks chunked == full forward;
#   2. exports an UNTRAINED default-size model (ONNX + ExecuTorch) with the real exporter;
#   3. runs that export through the C++ runtime (`mt2kd-edge run`) on a synthetic clip.
# The transcript and tags it prints are noise: the weights are random. What it proves is the
# whole path: audio in -> encoder -> three heads -> exported model -> runtime -> events out.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
OUT=build/demo
mkdir -p "$OUT"

echo "== 1/3 streaming check (torch)"
.venv/bin/mt2kd-edge check --seconds 4

if [ ! -f "$OUT/model/manifest.json" ]; then
  echo "== 2/3 exporting an untrained default-size model to $OUT/model"
  "$PY" - "$OUT/untrained.pt" <<'PY'
import sys, torch
from mt2kd_edge.model import ModelConfig, MT2KDModel, save_checkpoint
torch.manual_seed(0)
save_checkpoint(sys.argv[1], MT2KDModel(ModelConfig()))
PY
  "$PY" -m export "$OUT/untrained.pt" --out "$OUT/model" --forms onnx-fp32,onnx-int8,pte-fp32
else
  echo "== 2/3 $OUT/model exists (delete it to re-export)"
fi

echo "== 3/3 the C++ runtime on a synthetic clip (ExecuTorch backend)"
"$PY" -c "
import soundfile as sf
from mt2kd_edge.synthetic import speech_like
sf.write('$OUT/clip.wav', speech_like(6.0, seed=7), 16000, subtype='PCM_16')"
.venv/bin/mt2kd-edge run --model "$OUT/model" "$OUT/clip.wav"
echo "(untrained weights: the words and tags above are random; see README 'Where the project stands')"
