"""Stage-1 teachers: one interface (``Teacher`` + ``TargetSpec``) and its implementations.

- ``WhisperEncoderTeacher``: ASR, Whisper tiny.en encoder frames (50 Hz, 384-d), CTranslate2.
- ``ResemblyzerTeacher``: SV, resemblyzer's bundled 256-d d-vector.
- ``SingleTaskTeacher``: in-project teachers trained by ``singletask.training.train`` (the AT teacher, and
  CTC / speaker teachers for reproducibility).
- ``OnnxTeacher``: external ONNX models described by an ``OnnxTeacherConfig`` and a local path.

Heavy imports (faster-whisper, resemblyzer, onnxruntime) happen when a teacher is built.
"""

from .base import SAMPLE_RATE, TargetKind, TargetSpec, Teacher

__all__ = ["SAMPLE_RATE", "TargetKind", "TargetSpec", "Teacher"]
