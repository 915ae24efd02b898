"""Engine options come from the bound C++ EngineConfig: every field is an option and is printed."""

from __future__ import annotations

from mt2kd_edge import _core
from mt2kd_edge.engine import ENGINE_OPTIONS, Engine, _bound_fields, engine_config

SECTIONS = ("decoding", "tagging", "endpoint")


def test_every_bound_config_field_is_an_engine_option():
    config = _core.EngineConfig()
    fields = {(s, f) for s in SECTIONS for f in _bound_fields(type(getattr(config, s)))} | {(None, "resample")}
    assert set(ENGINE_OPTIONS.values()) == fields
    assert ("endpoint", "min_speech_ms") in fields  # the field the hand-written list once missed


def test_each_option_lands_in_its_own_field():
    for key, (section, field) in ENGINE_OPTIONS.items():
        default = getattr(_core.EngineConfig() if section is None else getattr(_core.EngineConfig(), section), field)
        value = ("lm.bin" if isinstance(default, str) else not default if isinstance(default, bool)
                 else default + 3 if isinstance(default, int) else round(default) + 0.25)  # exact in float32
        config = engine_config(**{key: value})
        got = getattr(config if section is None else getattr(config, section), field)
        assert got == value, key


def test_engine_config_repr_names_every_field():
    text = repr(_core.EngineConfig())
    for section in SECTIONS:
        assert f"{section}=(" in text
    for section, field in ENGINE_OPTIONS.values():
        assert f"{field}=" in text, field


def test_from_dir_takes_every_option_min_speech_ms_included(tiny_export):
    engine = Engine.from_dir(tiny_export["dir"], min_speech_ms=480, tag_on_threshold=0.6, endpoint=False)
    config = engine._core.config
    assert config.endpoint.min_speech_ms == 480 and not config.endpoint.enabled
    assert abs(config.tagging.on_threshold - 0.6) < 1e-6
