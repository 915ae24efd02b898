"""The streaming spec and the model config validate themselves and round-trip."""

from __future__ import annotations

import pytest

from mt2kd_edge.spec import StreamingSpec, TensorSpec


def small_spec(**kw) -> StreamingSpec:
    args = dict(sample_rate=16000, chunk_samples=5120, frames_per_chunk=8, frame_shift_ms=40,
                input=TensorSpec("samples", (5120,)),
                outputs=(TensorSpec("ctc_log_probs", (8, 10)),),
                states=(TensorSpec("a", (2, 3)), TensorSpec("b", (4,), reset="segment")))
    args.update(kw)
    return StreamingSpec(**args)


def test_spec_round_trips_through_json():
    spec = small_spec()
    again = StreamingSpec.from_json(spec.to_json())
    assert again == spec
    assert again.chunk_ms == 320
    assert again.state("b").reset == "segment"
    assert "ctc_log_probs" in again.describe()


def test_spec_rejects_bad_definitions():
    with pytest.raises(ValueError, match="duplicate"):
        small_spec(states=(TensorSpec("a", (1,)), TensorSpec("a", (2,))))
    with pytest.raises(ValueError, match="dtype"):
        TensorSpec("x", (1,), dtype="float16")
    with pytest.raises(ValueError, match="positive"):
        TensorSpec("x", (0, 3))
    with pytest.raises(KeyError, match="no state named"):
        small_spec().state("missing")


def test_spec_refuses_foreign_or_future_documents():
    d = small_spec().to_dict()
    with pytest.raises(ValueError, match="not a"):
        StreamingSpec.from_dict({**d, "format": "something-else"})
    with pytest.raises(ValueError, match="version 2"):
        StreamingSpec.from_dict({**d, "version": 2})


def test_config_validation_and_derived_sizes():
    torch = pytest.importorskip("torch")  # noqa: F841  (config lives in the torch package)
    from mt2kd_edge.model import ModelConfig

    cfg = ModelConfig()
    assert (cfg.chunk_samples, cfg.chunk_fbank_frames, cfg.chunk_frames) == (5120, 32, 8)
    assert cfg.left_context_frames == 64
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="multiple of 40"):
        ModelConfig(chunk_ms=300)
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(d_model=190, num_heads=4)
    with pytest.raises(ValueError, match="unknown ModelConfig fields"):
        ModelConfig.from_dict({"bogus": 1})


def test_default_model_size_is_in_the_planned_range():
    from mt2kd_edge.model import ModelConfig, MT2KDModel

    n = MT2KDModel(ModelConfig()).num_parameters()
    assert 4_000_000 <= n <= 8_000_000, n
