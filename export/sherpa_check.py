"""Run an exported model directory's sherpa-onnx flavours with an unmodified sherpa-onnx.

    python -m export.sherpa_check MODEL_DIR AUDIO.wav [fp32|int8]

Prints one JSON object: the streaming CTC tokens (of the fp32 or the int8 ASR flavour), and the
speaker embedding and the top tags where the directory has those flavours (a bundle ships only the
int8 ASR), as sherpa-onnx computes them. It runs as its own process on purpose: sherpa-onnx ends the process
(instead of raising) when a model's metadata is wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from mt2kd_edge import model_layout as layout
from mt2kd_edge.model_files import read_model_metadata
from mt2kd_edge.spec import SAMPLE_RATE

TAIL_SILENCE_S = 0.5  # sherpa decodes only whole windows; silence flushes the last one


def run(model_dir: Path, audio: np.ndarray, top_k: int = 3, asr_precision: str = "fp32") -> dict:
    import sherpa_onnx

    d = model_dir / layout.SHERPA
    rec = sherpa_onnx.OnlineRecognizer.from_zipformer2_ctc(
        tokens=str(d / layout.TOKENS), model=str(d / layout.SHERPA_ASR_FILES[asr_precision]), num_threads=1,
        sample_rate=SAMPLE_RATE,
        feature_dim=read_model_metadata(model_dir / layout.MODEL_JSON)["frontend"]["num_mel_bins"],
        decoding_method="greedy_search")
    stream = rec.create_stream()
    stream.accept_waveform(SAMPLE_RATE, audio)
    stream.accept_waveform(SAMPLE_RATE, np.zeros(int(TAIL_SILENCE_S * SAMPLE_RATE), np.float32))
    stream.input_finished()
    while rec.is_ready(stream):
        rec.decode_stream(stream)
    asr = rec.get_result_all(stream)
    out = {"tokens": list(asr.tokens), "text": asr.text}
    if not (d / layout.SHERPA_SPEAKER).is_file():
        return out

    extractor = sherpa_onnx.SpeakerEmbeddingExtractor(
        sherpa_onnx.SpeakerEmbeddingExtractorConfig(model=str(d / layout.SHERPA_SPEAKER), num_threads=1))
    s = extractor.create_stream()
    s.accept_waveform(SAMPLE_RATE, audio)
    s.input_finished()
    embedding = extractor.compute(s)

    tagger = sherpa_onnx.AudioTagging(sherpa_onnx.AudioTaggingConfig(
        model=sherpa_onnx.AudioTaggingModelConfig(
            zipformer=sherpa_onnx.OfflineZipformerAudioTaggingModelConfig(model=str(d / layout.SHERPA_TAGGING)),
            num_threads=1),
        labels=str(d / layout.LABELS), top_k=top_k))
    s = tagger.create_stream()
    s.accept_waveform(SAMPLE_RATE, audio)
    events = tagger.compute(s)
    return {**out, "speaker_embedding": [float(x) for x in embedding],
            "tags": [{"index": e.index, "name": e.name, "prob": e.prob} for e in events]}


def main() -> int:
    if len(sys.argv) not in (3, 4) or sys.argv[3:] and sys.argv[3] not in layout.SHERPA_ASR_FILES:
        print(__doc__, file=sys.stderr)
        return 2
    from mt2kd_edge.audio_io import read_mono_16k

    print(json.dumps(run(Path(sys.argv[1]), read_mono_16k(sys.argv[2]), asr_precision=(sys.argv[3:] or ["fp32"])[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
