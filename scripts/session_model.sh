#!/usr/bin/env bash
# One working session's recipe (issue 14), for machines whose disk does not outlive a session (see NOTES.md):
#   corpus (`session` preset, ~1 h on 2 cores) -> stage 2 multi-task (train/configs/session.yaml, ~25 min),
#   continuing from the bundled student's weights when the bundle ships them -> streaming evaluation
#   -> export (ONNX + ExecuTorch, fp32 + int8) -> int8-vs-fp32 evaluation -> word LM -> bundle (+ weights)
#   -> LM weights tuned on dev
# STEPS=N trains N stage-2 steps instead of session.yaml's (resuming a run with a larger N extends it).
# SET="key=value ..." passes more stage-2 config overrides (e.g. SET="lr=3.0e-4 speed_perturb=[0.9,1.1]").
# Every step resumes where it stopped. `make model-session` starts it in the background
# (log: exp/session_model.log). OUT=build/candidate bundles beside models/default, to compare first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CORPUS=${CORPUS:-data/corpus-session}
RUN=${RUN:-exp/session/continued}
BUILD=${BUILD:-build/model-session}
OUT=${OUT:-models/default}
RECOVERED=build/recovered/student.pt
# Continue from the bundle: its weights (fp16, with the BPE model they were trained with), or, for a bundle that
# ships none, the weights recovered from its int8 ONNX (step 2). INIT= (empty) trains from scratch.
INIT=${INIT-$( [ -f models/default/student.pt ] && echo models/default/student.pt || echo "$RECOVERED" )}
step() { echo; echo "== [$(date +%H:%M:%S)] $*"; }

step "1/8 corpus: $CORPUS (skips what is already rendered)"
# SPEECH_LIMIT=N renders only N utterances beyond the auditions (held-out sets first): less time, less speech.
# SPEECH_OFFSET=K takes its training utterances from the K-th of the plan's order on: a session continuing from
# the bundle then renders sentences the bundle never trained on (NOTES.md keeps the offsets each session used).
corpus() { nice -n 10 "$PY" -m train.data --preset session --out "$CORPUS" ${SPEECH_LIMIT:+--speech-limit "$SPEECH_LIMIT"} \
  ${SPEECH_OFFSET:+--speech-offset "$SPEECH_OFFSET"}; }
# Once in three sessions the build segfaulted at interpreter exit after "built preset": a second run skips
# everything rendered and ends cleanly; a real failure fails twice and stops the recipe.
corpus || { echo "corpus step failed (exit $?); running it once more"; corpus; }

if [ "$INIT" = "$RECOVERED" ] && [ ! -f "$RECOVERED" ]; then
  "$PY" -m train.recover models/default --out "$RECOVERED"
fi

read -r -a SET_PAIRS <<< "${SET:-}"  # split on spaces, no globbing ([0.9,1.0,1.1] is a glob)
EXTRA_SETS=(); for kv in "${SET_PAIRS[@]}"; do EXTRA_SETS+=(--set "$kv"); done

step "2/8 stage 2 (multi-task) from ${INIT:-scratch}: $RUN"
nice -n 10 "$PY" -m train.stage2 --config train/configs/session.yaml --set "corpus=$CORPUS" --set "out=$RUN" \
  --set "init_from=$INIT" ${STEPS:+--set "steps=$STEPS"} "${EXTRA_SETS[@]}"

step "3/8 streaming evaluation on the held-out sets: $RUN/eval.json"
if [ ! -f "$RUN/eval.json" ] || [ "$RUN/best.pt" -nt "$RUN/eval.json" ]; then
  nice -n 10 "$PY" -m train.evaluation.students --checkpoint "$RUN/best.pt" --corpus "$CORPUS" \
    --out "$RUN/eval.json" --scores "$RUN/sv_scores.npz" > /dev/null
fi

step "4/8 export: $BUILD"
if [ ! -f "$BUILD/manifest.json" ] || [ "$RUN/best.pt" -nt "$BUILD/manifest.json" ]; then
  nice -n 10 "$PY" -m export "$RUN/best.pt" --out "$BUILD" --calibration "$CORPUS/manifests/pool_cuts_train.jsonl.gz"
fi

step "5/8 int8 against fp32 on the held-out sets (ONNX Runtime and ExecuTorch)"
for backend in onnx executorch; do
  report="$BUILD/evaluation_int8_$backend.json"
  if [ ! -f "$report" ] || [ "$BUILD/manifest.json" -nt "$report" ]; then
    nice -n 10 "$PY" -m train.evaluation.students --model "$BUILD" --backend "$backend" --precision int8 \
      --compare fp32 --corpus "$CORPUS" --out "$report" > /dev/null
  fi
done

step "6/8 word LM from the training text (held-out sentences left out): $BUILD/lm.bin"
if [ ! -f "$BUILD/lm.bin" ] || [ "$CORPUS/build.json" -nt "$BUILD/lm.bin" ]; then
  "$PY" -m train.lm build --corpus "$CORPUS" --out "$BUILD/lm.bin"
fi

step "7/8 bundle: $OUT"
"$PY" -m train.bundle "$BUILD" --out "$OUT" --demo-corpus "$CORPUS" --lm "$BUILD/lm.bin" --weights "$RUN/best.pt" \
  --report "$RUN/eval.json" --report "$BUILD/evaluation_int8_onnx.json" \
  --report "$BUILD/evaluation_int8_executorch.json"

step "8/8 LM weights tuned on the dev set (never the test set), installed into $OUT/model.json"
nice -n 10 "$PY" -m train.lm tune --model "$OUT" --cuts "$CORPUS/manifests/speech_cuts_dev.jsonl.gz" \
  --lm-weights 0.25,0.35,0.5 --word-bonuses 0.5,1,2 --oov-penalties 5,10 --install
step "done: $OUT (try: make demo)"
