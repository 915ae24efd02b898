"""mt2kd-edge: on-device streaming ASR, audio tagging and speaker ID from one causal encoder.

Importing this package never imports torch: the runtime API runs on numpy and the C++ core.
The torch model lives in ``mt2kd_edge.model`` (install the ``train`` or ``export`` extra).
"""

from ._core import __version__ as core_version
from .spec import StreamingSpec, TensorSpec

__version__ = core_version  # one number for the package and its C++ core (runtime/include/mt2kd/version.h)

__all__ = ["StreamingSpec", "TensorSpec", "__version__", "core_version"]
