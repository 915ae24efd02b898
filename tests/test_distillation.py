"""Stage-1 projection heads: shapes, the look-behind shift, and that the losses can be learned."""

from __future__ import annotations

import torch

from mt2kd_edge.model import MT2KDModel, tiny_config


def test_asr_projection_stacks_two_teacher_frames_per_student_frame():
    model = MT2KDModel(tiny_config())
    enc = torch.randn(2, 5, model.config.d_model)
    assert model.distill.asr_frames(enc).shape == (2, 10, model.config.kd_asr_teacher_dim)


def test_shift_asks_student_frame_t_for_teacher_frames_of_t_minus_shift():
    model = MT2KDModel(tiny_config(kd_asr_shift_frames=1))
    heads = model.distill
    enc = torch.randn(1, 6, model.config.d_model)
    pred = heads.asr_frames(enc).detach()
    mask = torch.ones(1, 6, dtype=torch.bool)
    # A teacher equal to the predictions moved one student frame (two teacher frames) later
    # gives zero loss; the unshifted predictions do not.
    shifted_teacher = pred[:, 2:]
    assert heads.asr_loss(enc, mask, shifted_teacher, torch.tensor([10])).item() < 1e-6
    assert heads.asr_loss(enc, mask, pred, torch.tensor([12])).item() > 1e-3


def test_teacher_lengths_mask_the_asr_loss():
    model = MT2KDModel(tiny_config(kd_asr_shift_frames=0))
    enc = torch.randn(1, 4, model.config.d_model)
    pred = model.distill.asr_frames(enc).detach()
    teacher = pred.clone()
    teacher[:, 5:] += 100.0  # garbage past the teacher's length
    mask = torch.ones(1, 4, dtype=torch.bool)
    assert model.distill.asr_loss(enc, mask, teacher, torch.tensor([5])).item() < 1e-6


def test_three_kd_losses_fall_when_trained():
    torch.manual_seed(0)
    cfg = tiny_config()
    model = MT2KDModel(cfg).train()
    audio = 0.2 * torch.randn(4, 8000)
    lens = torch.tensor([8000, 8000, 6000, 5000])
    teacher_frames = torch.randn(4, 26, cfg.kd_asr_teacher_dim)
    teacher_probs = torch.rand(4, cfg.kd_tag_teacher_classes)
    teacher_emb = torch.randn(4, cfg.kd_spk_teacher_dim)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def losses():
        out = model(audio, lens)
        return (model.distill.asr_loss(out.encoder, out.frame_mask, teacher_frames, torch.full((4,), 26)),
                model.distill.tag_loss(out.encoder, out.frame_mask, teacher_probs),
                model.distill.speaker_loss(out.speaker_embedding, teacher_emb))

    first = [x.item() for x in losses()]
    for _ in range(40):
        opt.zero_grad()
        sum(losses()).backward()
        opt.step()
    last = [x.item() for x in losses()]
    assert all(b < 0.9 * a for a, b in zip(first, last)), (first, last)
