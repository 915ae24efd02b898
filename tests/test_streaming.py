"""One state contract: chunked streaming equals the full causal forward, for every head."""

from __future__ import annotations

import pytest
import torch

from mt2kd_edge.model import MT2KDModel, tiny_config
from mt2kd_edge.spec import StreamingSpec

ATOL = 2e-5  # float32; outputs are O(1) log-probs, probabilities and embeddings


def make_model(seed: int = 0, **overrides) -> MT2KDModel:
    torch.manual_seed(seed)
    model = MT2KDModel(tiny_config(**overrides)).eval()
    # Random non-zero biases everywhere so that no path is trivially zero (e.g. rel_bias).
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def run_stream(model: MT2KDModel, audio: torch.Tensor) -> dict[str, torch.Tensor]:
    """Feed (B, N) audio chunk by chunk (zero-padded tail) and collect the outputs."""
    spec = model.streaming_spec()
    chunk = spec.chunk_samples
    n_chunks = -(-audio.shape[1] // chunk)
    audio = torch.nn.functional.pad(audio, (0, n_chunks * chunk - audio.shape[1]))
    states = model.init_state(audio.shape[0])
    ctc, tags, embeddings = [], [], []
    with torch.no_grad():
        for k in range(n_chunks):
            (c, t, e), states = model.step(audio[:, k * chunk:(k + 1) * chunk], states)
            ctc.append(c)
            tags.append(t)
            embeddings.append(e)
    return {"ctc": torch.cat(ctc, 1), "tags": torch.cat(tags, 1), "embeddings": embeddings, "states": states}


@pytest.mark.parametrize("chunk_ms,left_context_ms", [(80, 160), (160, 320), (320, 320), (160, 1280)])
def test_stream_equals_full_forward(chunk_ms, left_context_ms):
    model = make_model(chunk_ms=chunk_ms, left_context_ms=left_context_ms)
    torch.manual_seed(1)
    audio = 0.2 * torch.randn(1, 16000 + 123)
    streamed = run_stream(model, audio)
    with torch.no_grad():
        full = model(audio, torch.tensor([audio.shape[1]]))
    assert streamed["ctc"].shape == full.ctc_log_probs.shape
    assert torch.allclose(streamed["ctc"], full.ctc_log_probs, atol=ATOL)
    assert torch.allclose(streamed["tags"], torch.sigmoid(full.tag_logits), atol=ATOL)
    # The embedding after the last chunk covers all frames, including the zero-padded tail's.
    with torch.no_grad():
        all_frames = model.speaker.embedding(model.speaker.frame_stats(full.encoder))
    assert torch.allclose(streamed["embeddings"][-1], all_frames, atol=ATOL)


def test_batch_of_streams_with_different_lengths():
    model = make_model()
    torch.manual_seed(2)
    lengths = [16000, 9000, 2560 * 3]
    batch = torch.zeros(3, max(lengths))
    for i, n in enumerate(lengths):
        batch[i, :n] = 0.2 * torch.randn(n)
    streamed = run_stream(model, batch)
    for i, n in enumerate(lengths):
        with torch.no_grad():
            alone = model(batch[i:i + 1, :n])
        frames = alone.ctc_log_probs.shape[1]  # the frames this stream alone produces
        assert torch.allclose(streamed["ctc"][i, :frames], alone.ctc_log_probs[0], atol=ATOL)
        assert torch.allclose(streamed["tags"][i, :frames], torch.sigmoid(alone.tag_logits[0]), atol=ATOL)
    # Batched forward with lengths masks each stream's padding out of its speaker embedding.
    with torch.no_grad():
        batched = model(batch, torch.tensor(lengths))
        for i, n in enumerate(lengths):
            alone = model(batch[i:i + 1, :n])
            assert torch.allclose(batched.ctc_log_probs[i, :alone.ctc_log_probs.shape[1]],
                                  alone.ctc_log_probs[0], atol=ATOL)
            assert torch.allclose(batched.speaker_embedding[i], alone.speaker_embedding[0], atol=ATOL)


def test_speaker_embedding_mid_stream_equals_audio_so_far():
    model = make_model()
    chunk = model.config.chunk_samples
    torch.manual_seed(3)
    audio = 0.2 * torch.randn(1, 6 * chunk)
    streamed = run_stream(model, audio)
    for k in (1, 3, 6):
        with torch.no_grad():
            so_far = model(audio[:, :k * chunk]).speaker_embedding
        assert torch.allclose(streamed["embeddings"][k - 1], so_far, atol=ATOL)
    # ... and the embedding really changes as audio arrives (the check is not vacuous).
    assert not torch.allclose(streamed["embeddings"][0], streamed["embeddings"][-1], atol=1e-3)


def test_resetting_segment_states_restarts_the_speaker_embedding():
    model = make_model()
    spec = model.streaming_spec()
    chunk = spec.chunk_samples
    torch.manual_seed(4)
    audio = 0.2 * torch.randn(1, 4 * chunk)
    states = model.init_state(1)
    with torch.no_grad():
        for k in range(2):
            _, states = model.step(audio[:, k * chunk:(k + 1) * chunk], states)
        zeroed = [torch.zeros_like(s) if t.reset == "segment" else s for s, t in zip(states, spec.states)]
        (_, _, emb), _ = model.step(audio[:, 2 * chunk:3 * chunk], zeroed)
        # Only the third chunk's frames are pooled now.
        full = model(audio[:, :3 * chunk])
        stats = model.speaker.frame_stats(full.encoder[:, 2 * spec.frames_per_chunk:3 * spec.frames_per_chunk])
        assert torch.allclose(emb, model.speaker.embedding(stats), atol=ATOL)


def test_state_spec_matches_tensors_and_has_batch_first():
    model = make_model()
    spec = model.streaming_spec()
    assert StreamingSpec.from_json(spec.to_json()) == spec
    for batch in (1, 3):
        states = model.init_state(batch)
        assert [tuple(s.shape) for s in states] == [t.batched_shape(batch) for t in spec.states]
        chunk = torch.zeros(batch, spec.chunk_samples)
        with torch.no_grad():
            outputs, new_states = model.step(chunk, states)
        assert [tuple(o.shape) for o in outputs] == [t.batched_shape(batch) for t in spec.outputs]
        assert [tuple(s.shape) for s in new_states] == [t.batched_shape(batch) for t in spec.states]


def test_streams_in_one_batch_do_not_interact():
    model = make_model()
    chunk = model.config.chunk_samples
    torch.manual_seed(5)
    a, b = 0.2 * torch.randn(1, 3 * chunk), 0.2 * torch.randn(1, 3 * chunk)
    together = run_stream(model, torch.cat([a, b]))
    alone = run_stream(model, a)
    assert torch.allclose(together["ctc"][0], alone["ctc"][0], atol=ATOL)


def test_training_forward_with_other_chunk_sizes_has_gradients():
    model = make_model().train()
    audio = 0.2 * torch.randn(2, 8000)
    out = model(audio, torch.tensor([8000, 5000]), chunk_frames=2)
    loss = out.ctc_log_probs.mean() + out.tag_logits.mean() + out.speaker_embedding.pow(2).mean()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None and not n.startswith("distill.")]
    assert missing == []
    assert out.frame_mask.sum(1).tolist() == [13, 8]  # ceil(8000 / 640), ceil(5000 / 640)
