"""In-project single-task teachers: one non-causal encoder, three tasks, their own small trainer.

- ``tag``: audio tagging (the default AT teacher): attention-pooled clip logits, BCE, mixup,
  SpecAugment, class-balanced sampling, random crops.
- ``ctc``: character CTC ASR (blank, space, apostrophe, A-Z), greedy decoding for WER.
- ``speaker``: speaker classification over the training speakers; the embedding (stats pooling +
  Linear) is the teacher target, scored by EER on trials.

The encoder sees the whole clip (full self-attention, no chunking, no cache): a teacher need not
stream. Kaldi fbank from the project front-end (offline), global mean/variance normalisation,
conv subsampling (4x, 8x or 16x), sinusoidal positions, pre-norm Transformer layers (PyTorch's fused
kernels).

One job a file:
- ``config``: ``SingleTaskConfig`` (the model's shape and its training settings; a checkpoint stores it);
- ``model``: the encoder and the task heads;
- ``examples``: a split's fbank + targets in memory; ``batches``: crops, normalisation, SpecAugment;
- ``training``: the loss, the lr schedule and the resumable loop; ``checkpoint``: save and load;
- ``scoring``: predictions and held-out scores; ``teacher``: a trained model behind the ``Teacher`` interface;
- ``python -m train.teachers.singletask``: train one (the first step of the teacher chain).

Why not ``train.loop.Trainer``: see NOTES.md (the teachers' own loop is kept so their runs reproduce).
"""
