"""Channel effects and augmentation on 16 kHz float32 mono audio (numpy, scipy, pyroomacoustics).

Every function takes its randomness from the ``rng`` it is given, so an item's seed reproduces it.
``random_channel`` draws a whole chain and returns the parameters it used; they go into the manifests.
"""

from __future__ import annotations

import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from mt2kd_edge.spec import SAMPLE_RATE

TELEPHONE_RATE = 8000  # narrow-band telephone: 300-3400 Hz at 8 kHz, then a codec
TELEPHONE_CODECS = ("mulaw", "gsm", "opus")
PEAK_LIMIT = 0.99  # nothing written clips


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return x.astype(np.float32)
    ratio = Fraction(to_rate, from_rate).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1) if x.ndim == 2 else x


def rms_dbfs(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-12))


def set_level(x: np.ndarray, target_dbfs: float) -> np.ndarray:
    """Scale to an RMS level, then down again if needed so the peak stays under PEAK_LIMIT."""
    y = x * 10 ** ((target_dbfs - rms_dbfs(x)) / 20)
    peak = np.abs(y).max(initial=0.0)
    return (y * (PEAK_LIMIT / peak) if peak > PEAK_LIMIT else y).astype(np.float32)


def trim_silence(x: np.ndarray, threshold_db: float = -40.0, margin_ms: int = 50) -> np.ndarray:
    """Cut leading and trailing audio quieter than ``threshold_db`` below the peak (10 ms frames)."""
    frame = SAMPLE_RATE // 100
    n = len(x) // frame
    if n == 0:
        return x
    energy = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)) + 1e-9
    loud = np.flatnonzero(20 * np.log10(energy / energy.max()) > threshold_db)
    margin = margin_ms * SAMPLE_RATE // 1000
    return x[max(0, loud[0] * frame - margin): min(len(x), (loud[-1] + 1) * frame + margin)]


def coloured_noise(num_samples: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2) Gaussian noise at unit RMS."""
    white = rng.standard_normal(num_samples)
    if colour != "white":
        spectrum = np.fft.rfft(white)
        f = np.maximum(np.fft.rfftfreq(num_samples), 1.0 / num_samples)
        spectrum /= np.sqrt(f) if colour == "pink" else f
        white = np.fft.irfft(spectrum, num_samples)
    return (white / (np.std(white) + 1e-12)).astype(np.float32)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float, offset: int = 0) -> np.ndarray:
    """``signal`` plus ``noise`` (placed at ``offset``, cut to fit) scaled to ``snr_db`` below the signal."""
    out = signal.astype(np.float32).copy()
    noise = noise[: max(0, len(out) - offset)]
    if len(noise) == 0:
        return out
    gain = 10 ** ((rms_dbfs(signal) - rms_dbfs(noise) - snr_db) / 20)
    out[offset: offset + len(noise)] += gain * noise
    return out


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch moves with it), like sox `speed`."""
    ratio = Fraction(factor).limit_denominator(100)
    return resample_poly(x, ratio.denominator, ratio.numerator).astype(np.float32)


def _mulaw(x: np.ndarray) -> np.ndarray:
    """8-bit mu-law quantisation (G.711), in numpy."""
    peak = np.abs(x).max(initial=0.0) + 1e-9
    mu = 255.0
    companded = np.sign(x / peak) * np.log1p(mu * np.abs(x / peak)) / np.log1p(mu)
    quantised = np.round(companded * 127) / 127
    return np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu * peak


def _external_codec(x: np.ndarray, codec: str, bitrate_kbps: int) -> np.ndarray:
    """A round trip through GSM 06.10 (sox) or Opus (opus-tools) at 8 kHz; deterministic encoders."""
    peak = np.abs(x).max(initial=0.0) + 1e-9
    with tempfile.TemporaryDirectory(prefix="mt2kd-codec-") as tmp:
        wav, coded, back = Path(tmp) / "in.wav", Path(tmp) / "coded", Path(tmp) / "out.wav"
        sf.write(wav, x / peak * 0.9, TELEPHONE_RATE, subtype="PCM_16")
        if codec == "gsm":
            coded = coded.with_suffix(".gsm")
            cmds = [["sox", "-D", "-q", str(wav), str(coded)], ["sox", "-D", "-q", str(coded), str(back)]]
        else:
            coded = coded.with_suffix(".opus")
            cmds = [["opusenc", "--quiet", "--bitrate", str(bitrate_kbps), "--framesize", "20", str(wav), str(coded)],
                    ["opusdec", "--quiet", "--rate", str(TELEPHONE_RATE), str(coded), str(back)]]
        for cmd in cmds:
            subprocess.run(cmd, check=True, capture_output=True)
        y, _ = sf.read(back, dtype="float32")
    # opusdec drops the encoder's pre-skip itself; a codec frame of padding may remain at the end
    y = to_mono(y)[: len(x)]
    return np.pad(y, (0, len(x) - len(y))) * (peak / 0.9)


def telephone(x: np.ndarray, codec: str = "mulaw", bitrate_kbps: int = 12) -> np.ndarray:
    """Narrow-band telephone: band-pass 300-3400 Hz, down to 8 kHz, a codec, back up to 16 kHz."""
    if codec not in TELEPHONE_CODECS:
        raise ValueError(f"codec must be one of {TELEPHONE_CODECS}, got {codec!r}")
    band = sosfilt(butter(4, (300, 3400), btype="band", fs=SAMPLE_RATE, output="sos"), x)
    narrow = resample(band, SAMPLE_RATE, TELEPHONE_RATE)
    coded = _mulaw(narrow) if codec == "mulaw" else _external_codec(narrow, codec, bitrate_kbps)
    return resample(coded, TELEPHONE_RATE, SAMPLE_RATE)[: len(x)]


def clip_hard(x: np.ndarray, overdrive_db: float) -> np.ndarray:
    """An overdriven input stage: the signal is driven ``overdrive_db`` past full scale and clipped."""
    peak = np.abs(x).max(initial=0.0) + 1e-9
    return np.clip(x / peak * 10 ** (overdrive_db / 20), -1.0, 1.0).astype(np.float32) * peak


def loudness_drift(x: np.ndarray, depth_db: float, rng: np.random.Generator) -> np.ndarray:
    """A talker moving or turning: a smooth random gain curve of +-``depth_db`` over the clip."""
    knots = rng.uniform(-depth_db, depth_db, size=max(2, len(x) // SAMPLE_RATE + 2))
    curve = np.interp(np.linspace(0, len(knots) - 1, len(x)), np.arange(len(knots)), knots)
    return (x * 10 ** (curve / 20)).astype(np.float32)


def loop_to(x: np.ndarray, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``x`` repeated (from a random start) to ``num_samples``: a background under a longer clip."""
    if len(x) == 0:
        return np.zeros(num_samples, np.float32)
    start = int(rng.integers(len(x)))
    reps = -(-(num_samples + start) // len(x))
    return np.tile(x, reps)[start: start + num_samples].astype(np.float32)


def microphone_colour(x: np.ndarray, highpass_hz: float, lowpass_hz: float) -> np.ndarray:
    """A cheap microphone and preamp: a low cut and a high roll-off."""
    sos = np.vstack([butter(2, highpass_hz, btype="high", fs=SAMPLE_RATE, output="sos"),
                     butter(1, lowpass_hz, btype="low", fs=SAMPLE_RATE, output="sos")])
    return sosfilt(sos, x).astype(np.float32)


def room_impulse_response(rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A shoebox room simulated with pyroomacoustics (image source method): the RIR and the room drawn."""
    import pyroomacoustics as pra

    dims = rng.uniform((3.0, 3.0, 2.4), (9.0, 7.0, 3.5))
    rt60_s = float(rng.uniform(0.15, 0.7))
    absorption, max_order = pra.inverse_sabine(rt60_s, dims)
    room = pra.ShoeBox(dims, fs=SAMPLE_RATE, materials=pra.Material(absorption), max_order=min(max_order, 12))
    margin = 0.5
    source = rng.uniform(margin, dims - margin)
    mic = rng.uniform(margin, dims - margin)
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float32)
    distance_m = float(np.linalg.norm(source - mic))
    return rir / (np.abs(rir).max() + 1e-9), {"room_m": [round(float(d), 2) for d in dims], "rt60_s": round(rt60_s, 3),
                                              "distance_m": round(distance_m, 2)}


def reverberate(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    # Align on the direct path so a reverberant copy starts when the dry one does.
    start = int(np.argmax(np.abs(rir)))
    return fftconvolve(x, rir[start:])[: len(x)].astype(np.float32)


def random_channel(x: np.ndarray, rng: np.random.Generator, p_room: float, p_noise: float, p_mic: float,
                   p_telephone: float, snr_db: tuple[float, float], noise_colours: tuple[str, ...],
                   background: np.ndarray | None = None, p_background: float = 0.0,
                   background_snr_db: tuple[float, float] = (0.0, 20.0), p_clip: float = 0.0,
                   p_drift: float = 0.0, codecs: tuple[str, ...] = ("mulaw",)) -> tuple[np.ndarray, dict]:
    """Apply a random chain room -> microphone -> background -> noise -> clipping -> telephone.

    Each link has its own probability; ``background`` is a real recording (looped to fit) mixed at
    an SNR drawn from ``background_snr_db``. Returns the audio (level not yet set) and a dict of what
    was applied, for the manifests.
    """
    applied: dict = {}
    if rng.random() < p_room:
        rir, applied["room"] = room_impulse_response(rng)
        x = reverberate(x, rir)
    if rng.random() < p_drift:
        applied["drift_db"] = round(float(rng.uniform(2.0, 8.0)), 2)
        x = loudness_drift(x, applied["drift_db"], rng)
    if rng.random() < p_mic:
        applied["mic"] = {"highpass_hz": round(float(rng.uniform(50, 250)), 1),
                          "lowpass_hz": round(float(rng.uniform(3500, 7500)), 1)}
        x = microphone_colour(x, **applied["mic"])
    if background is not None and rng.random() < p_background:
        snr = float(rng.uniform(*background_snr_db))
        applied["background_snr_db"] = round(snr, 2)
        x = mix_at_snr(x, loop_to(background, len(x), rng), snr)
    if rng.random() < p_noise:
        colour = str(rng.choice(noise_colours))
        snr = float(rng.uniform(*snr_db))
        applied["noise"] = {"colour": colour, "snr_db": round(snr, 2)}
        x = mix_at_snr(x, coloured_noise(len(x), colour, rng), snr)
    if rng.random() < p_clip:
        applied["clip_overdrive_db"] = round(float(rng.uniform(2.0, 12.0)), 2)
        x = clip_hard(x, applied["clip_overdrive_db"])
    if rng.random() < p_telephone:
        codec = str(rng.choice(codecs))
        bitrate = int(rng.choice((8, 12, 16)))
        applied["telephone_8khz"] = {"codec": codec, **({"bitrate_kbps": bitrate} if codec == "opus" else {})}
        x = telephone(x, codec, bitrate)
    return x.astype(np.float32), applied
