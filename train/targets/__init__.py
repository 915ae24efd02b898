"""The stage-1 target cache: teacher targets for the pool, on disk, read back with the cuts.

Layout of ``OUT/targets/`` (written by ``extract.extract_pool``):
- ``targets.json``: the teachers' ``TargetSpec``s and settings (a resumed run must match them);
- ``shards/shard-NNNNN.h5``: the arrays (lhotse ``NumpyHdf5Writer``, float32, lossless);
- ``shards/shard-NNNNN.jsonl.gz``: that shard's cuts with custom fields; written last, atomically,
  so its presence marks the shard done (the unit of resume);
- ``pool_cuts_train_targets.jsonl.gz``: all shards' cuts, for the training loader.

Each cut gets one custom field per teacher: ``TemporalArray`` (frame_shift 1/rate) for frame
targets, ``Array`` for clip probabilities and embeddings. Read them with ``collate_targets`` (or
``cut.custom[name].load()``): ``cut.load_custom(name)`` re-derives the frame count from the cut's
duration with lhotse's rounding and can drop the last, partial frame.
"""

from .dataset import CachedTargets, collate_targets, load_cached_cuts

__all__ = ["CachedTargets", "collate_targets", "load_cached_cuts"]
