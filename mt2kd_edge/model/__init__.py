"""The torch model: config, Kaldi front-end, causal chunked encoder, heads, checkpoints.

Needs torch (the ``train``/``export`` extras). The runtime API never imports this package; the commands
that step the torch model import it inside the function that needs it (``streaming_check`` for ``check``,
``step_timing`` for ``bench --checkpoint``), so torch is imported nowhere else in the SDK but ``cli._need_torch``.
"""

try:
    import torch  # noqa: F401
except ImportError as e:  # a runtime-only install
    raise ImportError("mt2kd_edge.model needs torch: pip install 'mt2kd-edge[train]' "
                      "(the runtime API in mt2kd_edge does not)") from e

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import ModelConfig, tiny_config
from .frontend import KaldiFbank
from .model import MT2KDModel, ModelOutput, frames_for_samples

__all__ = ["CheckpointError", "KaldiFbank", "MT2KDModel", "ModelConfig", "ModelOutput",
           "frames_for_samples", "load_checkpoint", "save_checkpoint", "tiny_config"]
