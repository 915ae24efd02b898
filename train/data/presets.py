"""Corpus sizes: one frozen dataclass, three presets."""

from __future__ import annotations

from dataclasses import dataclass

from .deps import DEB_DATA_PACKAGES


@dataclass(frozen=True)
class CorpusPreset:
    name: str
    # --- speech ---
    espeak_train_speakers: int  # accent x variant x pitch combinations seen in training
    espeak_heldout_speakers: int  # never in training: speaker-verification and WER trials
    pitch_variants: int  # pseudo-speakers per real-speaker voice (pitch shifts), the unshifted one included
    utts_per_espeak_speaker: int
    utts_per_real_speaker: int  # per pseudo-speaker of a real voice: real voices are weighted up
    utts_per_heldout_speaker: int
    heldout_sentences: int  # never in training; half for dev, half for test
    dev_utts: int  # training speakers reading dev sentences (unseen text, seen voices)
    # --- sound events ---
    train_clips_per_class: int
    test_clips_per_class: int
    train_mixtures: int  # multi-label clips: events over background, events with speech
    test_mixtures: int
    deb_packages: tuple[str, ...] = DEB_DATA_PACKAGES  # data packages that real event clips come from
    sv_trials: int = 2000  # target + non-target pairs written to the trials list


PRESETS = {
    # Seconds of compute: every split and class non-empty, nothing more.
    "ci": CorpusPreset(
        name="ci", espeak_train_speakers=6, espeak_heldout_speakers=3, pitch_variants=2,
        utts_per_espeak_speaker=2, utts_per_real_speaker=2, utts_per_heldout_speaker=2,
        heldout_sentences=20, dev_utts=4, train_clips_per_class=2, test_clips_per_class=1,
        train_mixtures=6, test_mixtures=3, sv_trials=40,
        # the small packages plus the two that give most real classes
        deb_packages=("hedgewars-data", "wesnoth-1.16-data", "minetest-data", "tuxpaint-stamps-default",
                      "sound-theme-freedesktop"),
    ),
    # A few minutes: big enough to smoke-test training end to end.
    "small": CorpusPreset(
        name="small", espeak_train_speakers=40, espeak_heldout_speakers=10, pitch_variants=3,
        utts_per_espeak_speaker=8, utts_per_real_speaker=20, utts_per_heldout_speaker=6,
        heldout_sentences=200, dev_utts=60, train_clips_per_class=12, test_clips_per_class=4,
        train_mixtures=120, test_mixtures=30, sv_trials=500,
    ),
    # The real thing: >= 15 h of speech, >= 300 training speakers, >= 40 held-out speakers,
    # >= 40 training clips per class; about 1-1.5 core-hours.
    "default": CorpusPreset(
        name="default", espeak_train_speakers=300, espeak_heldout_speakers=40, pitch_variants=9,
        utts_per_espeak_speaker=28, utts_per_real_speaker=130, utts_per_heldout_speaker=10,
        heldout_sentences=1000, dev_utts=500, train_clips_per_class=48, test_clips_per_class=12,
        train_mixtures=1000, test_mixtures=200, sv_trials=10000,
    ),
}
