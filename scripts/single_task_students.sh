#!/usr/bin/env bash
# Three single-task students (ASR, AT, SV) of the bundled size, exported as ExecuTorch int8, for
# `mt2kd-edge bench --single-task build/single/asr,build/single/at,build/single/sv` (issue 18: the cost of one
# shared encoder against three separate models). A model's cost does not depend on how well it is trained,
# so each gets only STEPS (default 60) steps of its own task, from scratch (~3 min each plus ~2.5 min of
# export on 2 cores). Resumable: a student already exported is skipped. Not a quality comparison: that is
# `make paper-table`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CORPUS=${CORPUS:-data/corpus-session}
STEPS=${STEPS:-60}
for task in asr at sv; do
  run=exp/single/$task out=build/single/$task
  [ -f "$run/best.pt" ] || nice -n 10 "$PY" -m train.stage2 --config train/configs/session.yaml \
    --set "corpus=$CORPUS" --set "out=$run" --set init_from= --set encoder_lr_scale=1 \
    --set "loss_scales={asr: 1.0, at: 1.0, sv: 1.0}" --set "task_ratio={$task: 1.0}" \
    --set "steps=$STEPS" --set "valid_every=$STEPS" --set "save_every=$STEPS"
  [ -f "$out/manifest.json" ] || nice -n 10 "$PY" -m export "$run/best.pt" --out "$out" --forms pte-int8 \
    --calibration "$CORPUS/manifests/pool_cuts_train.jsonl.gz"
done
echo "single-task students in build/single/{asr,at,sv}"
