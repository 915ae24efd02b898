"""The torch front-end equals kaldi-native-fbank (lhotse / sherpa-onnx settings)."""

from __future__ import annotations

from pathlib import Path

import kaldi_native_fbank as knf
import numpy as np
import pytest
import torch

from mt2kd_edge.model.frontend import KaldiFbank

# Features are natural-log mel energies (about -16 .. +10). The difference comes from float32
# rounding in a different order (a folded matrix against Kaldi's FFT); measured max ~2.5e-4.
TOLERANCE = 1e-3
CHUNK_SAMPLES = 5120  # 320 ms


def knf_options() -> knf.FbankOptions:
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = False
    opts.mel_opts.num_bins = 80
    opts.mel_opts.high_freq = -400  # 7600 Hz; the other fields are knf defaults
    return opts


def knf_frames(f: knf.OnlineFbank, start: int = 0) -> np.ndarray:
    return np.stack([f.get_frame(i) for i in range(start, f.num_frames_ready)])


@pytest.fixture(scope="module")
def fbank() -> KaldiFbank:
    return KaldiFbank(80)


@pytest.mark.parametrize("name", ["speech", "noise", "silence"])
def test_offline_equals_kaldi(fbank, signals, name):
    x = signals[name]
    ref = knf.OnlineFbank(knf_options())
    ref.accept_waveform(16000, x.tolist())
    ref.input_finished()
    expected = knf_frames(ref)
    ours = fbank.offline(torch.from_numpy(x)[None])[0].numpy()
    assert ours.shape == expected.shape == ((len(x) + 80) // 160, 80)
    assert np.abs(ours - expected).max() < TOLERANCE


@pytest.mark.parametrize("name", ["speech", "noise", "silence"])
def test_stream_steps_equal_online_kaldi(fbank, signals, name):
    """Each step yields exactly the frames OnlineFbank has ready after the same audio; output
    frame m is Kaldi frame m-1 (the first step repeats frame 0 in slot 0)."""
    x = signals[name]
    n_chunks = len(x) // CHUNK_SAMPLES
    online = knf.OnlineFbank(knf_options())
    cache, started = torch.zeros(1, 280), torch.zeros(1, 1)
    ours = []
    for k in range(n_chunks):
        chunk = x[k * CHUNK_SAMPLES:(k + 1) * CHUNK_SAMPLES]
        feats, cache, started = fbank.stream_step(torch.from_numpy(chunk)[None], cache, started)
        ours.append(feats[0].numpy())
        online.accept_waveform(16000, chunk.tolist())
        # every Kaldi frame through 32k+30 is ready, and none later
        assert online.num_frames_ready == 32 * (k + 1) - 1
    ours = np.concatenate(ours)
    expected = knf_frames(online)
    assert np.abs(ours[1:] - expected).max() < TOLERANCE
    assert np.abs(ours[0] - expected[0]).max() < TOLERANCE


def test_streaming_equivalent_matches_steps(fbank, signals):
    x = torch.from_numpy(signals["speech"][:3 * CHUNK_SAMPLES + 777])[None]
    whole = fbank.streaming_equivalent(x, CHUNK_SAMPLES)
    padded = torch.nn.functional.pad(x, (0, 4 * CHUNK_SAMPLES - x.shape[1]))
    cache, started, steps = torch.zeros(1, 280), torch.zeros(1, 1), []
    for k in range(4):
        feats, cache, started = fbank.stream_step(padded[:, k * CHUNK_SAMPLES:(k + 1) * CHUNK_SAMPLES], cache, started)
        steps.append(feats)
    assert whole.shape == (1, 128, 80)
    assert torch.allclose(torch.cat(steps, 1), whole, atol=1e-5)


def test_offline_refuses_too_short_audio(fbank):
    with pytest.raises(ValueError, match="at least 200 samples"):
        fbank.offline(torch.zeros(1, 100))


@pytest.mark.parametrize("name", ["speech", "noise", "silence"])
def test_the_training_fft_path_equals_kaldi_too(signals, name):
    """Training may compute features with torch.fft (`fbank.fft = True`); export keeps the matmul."""
    x = signals[name]
    ref = knf.OnlineFbank(knf_options())
    ref.accept_waveform(16000, x.tolist())
    ref.input_finished()
    fast = KaldiFbank(80)
    fast.fft = True
    ours = fast.offline(torch.from_numpy(x)[None])[0].numpy()
    np.testing.assert_allclose(ours, knf_frames(ref), atol=TOLERANCE)


def test_frontend_settings_come_from_the_module_and_the_model_config():
    import json

    assert KaldiFbank(64).settings()["num_mel_bins"] == 64
    shipped = json.loads((Path(__file__).resolve().parents[1] / "models" / "default" / "model.json").read_text())
    assert KaldiFbank(shipped["model_config"]["num_mel_bins"]).settings() == shipped["frontend"]
