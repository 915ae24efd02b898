"""Corpus sizes: one frozen dataclass, three presets."""

from __future__ import annotations

from dataclasses import dataclass

from .deps import DEB_DATA_PACKAGES


@dataclass(frozen=True)
class CorpusPreset:
    name: str
    # --- speakers (voices.py): training and held-out counts per synthesiser ---
    hibari_train_speakers: int
    hibari_heldout_speakers: int
    kokoro_train_speakers: int
    kokoro_heldout_speakers: int
    espeak_train_speakers: int
    espeak_heldout_speakers: int
    recorded_variants: int  # pseudo-speakers per recorded-person voice (pitch/formant shifts), the voice itself included
    # --- utterances per training speaker, by system; held-out speakers all read the same number ---
    utts_per_hibari_speaker: int
    utts_per_kokoro_speaker: int
    utts_per_recorded_speaker: int
    utts_per_espeak_speaker: int
    utts_per_heldout_speaker: int
    heldout_sentences: int  # never in training; half for dev, half for test
    dev_utts: int  # training speakers reading dev sentences (unseen text, seen voices)
    # --- the transcript check (transcript_check.py) ---
    audition_utts: int  # every speaker's first utterances, all checked: a speaker Whisper cannot read is dropped
    check_fractions: tuple[tuple[str, float], ...]  # (system, share of its other training utterances checked)
    # --- sound events ---
    train_clips_per_class: int
    test_clips_per_class: int
    train_mixtures: int  # multi-label clips: events over background, events with speech
    test_mixtures: int
    deb_packages: tuple[str, ...] = DEB_DATA_PACKAGES  # data packages that real event clips come from
    sv_trials: int = 2000  # target + non-target pairs written to the trials list
    # (system, more training sentences per training speaker): drawn after everything above from a generator of
    # their own (plan.plan_extra_speech), so growing a preset here only adds utterances: a corpus built before
    # keeps every file, events and mixtures included, and a resumed build renders just the new ones
    extra_train_utts: tuple[tuple[str, int], ...] = ()
    # (neural system, new training speakers, sentences each, the auditions included): drawn after all of the
    # above, on generators of their own (voices.make_extra_speakers, plan.plan_extra_speakers), so they too only
    # add utterances. Where extra_train_utts gives the same voices more to read, these are new voices.
    extra_train_speakers: tuple[tuple[str, int, int], ...] = ()

    def utts_per_speaker(self, system: str, heldout: bool) -> int:
        if heldout:
            return self.utts_per_heldout_speaker
        return {"hibari": self.utts_per_hibari_speaker, "kokoro": self.utts_per_kokoro_speaker,
                "espeak": self.utts_per_espeak_speaker}.get(system, self.utts_per_recorded_speaker)

    def extra_utts(self, system: str) -> int:
        return dict(self.extra_train_utts).get(system, 0)

    def check_fraction(self, system: str) -> float:
        return dict(self.check_fractions).get(system, 0.0)


PRESETS = {
    # Seconds of compute: every split, system and class non-empty, nothing more; every utterance checked.
    "ci": CorpusPreset(
        name="ci", hibari_train_speakers=3, hibari_heldout_speakers=1, kokoro_train_speakers=2,
        kokoro_heldout_speakers=1, espeak_train_speakers=4, espeak_heldout_speakers=2, recorded_variants=2,
        utts_per_hibari_speaker=4, utts_per_kokoro_speaker=2, utts_per_recorded_speaker=3, utts_per_espeak_speaker=2,
        utts_per_heldout_speaker=2, heldout_sentences=20, dev_utts=4, audition_utts=1,
        check_fractions=(("hibari", 1.0), ("kokoro", 1.0), ("flite", 1.0), ("festival", 1.0), ("piper", 1.0),
                         ("espeak", 1.0)),
        train_clips_per_class=2, test_clips_per_class=1, train_mixtures=6, test_mixtures=3, sv_trials=40,
        # the fewest packages that give every real class two or more files
        deb_packages=("hedgewars-data", "wesnoth-1.16-data", "minetest-data", "tuxpaint-stamps-default",
                      "sound-theme-freedesktop", "bucklespring-data", "btanks-data", "lincity-ng-data"),
    ),
    # Tens of minutes: big enough to smoke-test training end to end.
    "small": CorpusPreset(
        name="small", hibari_train_speakers=40, hibari_heldout_speakers=6, kokoro_train_speakers=20,
        kokoro_heldout_speakers=4, espeak_train_speakers=30, espeak_heldout_speakers=8, recorded_variants=3,
        utts_per_hibari_speaker=10, utts_per_kokoro_speaker=4, utts_per_recorded_speaker=12, utts_per_espeak_speaker=6,
        utts_per_heldout_speaker=6, heldout_sentences=300, dev_utts=60, audition_utts=2,
        check_fractions=(("hibari", 0.2), ("kokoro", 0.3), ("flite", 0.2), ("festival", 0.2), ("piper", 0.2),
                         ("espeak", 0.3)),
        train_clips_per_class=12, test_clips_per_class=4, train_mixtures=120, test_mixtures=30, sv_trials=500,
    ),
    # One working session: what 2 cores render in about two hours, for machines whose disk does not outlive a
    # session (corpus and checkpoints are rebuilt each time; the bundled student weights carry training over).
    # Whole (reports/corpus_session/stats.md): 31.6 h of training speech (93 % neural, ~80 % hibari alone, 3 %
    # espeak after the transcript check), 1,089 training speakers kept, one audition each; ~2.5 h of 2-core
    # rendering in all (sessions 13-16 on one machine), ~2.3 h for 29.6 h in an earlier build.
    "session": CorpusPreset(
        name="session", hibari_train_speakers=700, hibari_heldout_speakers=24, kokoro_train_speakers=100,
        kokoro_heldout_speakers=16, espeak_train_speakers=180, espeak_heldout_speakers=32, recorded_variants=8,
        utts_per_hibari_speaker=24, utts_per_kokoro_speaker=5, utts_per_recorded_speaker=40,
        utts_per_espeak_speaker=14, utts_per_heldout_speaker=10, heldout_sentences=1000, dev_utts=400,
        audition_utts=1,
        check_fractions=(("hibari", 0.05), ("kokoro", 0.25), ("flite", 0.15), ("festival", 0.15), ("piper", 0.15),
                         ("espeak", 0.3)),
        train_clips_per_class=48, test_clips_per_class=12, train_mixtures=800, test_mixtures=200, sv_trials=6000,
        # session 11's growth (valid CTC was flat on 19.5 h): +8,400 hibari and +1,600 Kokoro utterances
        # (~+11 h; Kokoro is where the voices vary, issue 13). Another ~1.5 h of 2-core rendering.
        extra_train_utts=(("hibari", 12), ("kokoro", 16)),
        # session 16's growth: realdev got worse while the synthetic sets improved (86 % of the training
        # speech was hibari): 240 new Kokoro blends reading 8 sentences each. Measured: 209 passed their
        # audition (31 dropped), +2.0 h of training speech, ~45 min of 2-core rendering
        extra_train_speakers=(("kokoro", 240, 8),),
    ),
    # The real thing: >= 60 h of training speech (about 3/4 neural, <= 1/5 espeak), >= 1,000 training
    # speakers, >= 100 held-out speakers, >= 40 training clips per class. About 10 core-hours: Kokoro
    # (1.9x real time per core) and the Whisper checks (0.17 s per second checked) are most of it.
    "default": CorpusPreset(
        name="default", hibari_train_speakers=620, hibari_heldout_speakers=24, kokoro_train_speakers=440,
        kokoro_heldout_speakers=24, espeak_train_speakers=320, espeak_heldout_speakers=40, recorded_variants=13,
        utts_per_hibari_speaker=64, utts_per_kokoro_speaker=22, utts_per_recorded_speaker=90,
        utts_per_espeak_speaker=30, utts_per_heldout_speaker=10, heldout_sentences=2000, dev_utts=1000,
        audition_utts=3,
        check_fractions=(("hibari", 0.1), ("kokoro", 0.25), ("flite", 0.15), ("festival", 0.15), ("piper", 0.15),
                         ("espeak", 0.3)),
        train_clips_per_class=48, test_clips_per_class=12, train_mixtures=1500, test_mixtures=300, sv_trials=10000,
    ),
}
